"""Customers, orders, lines and events, read through per-request DataLoaders.

Row-level rules live here, where the rows are loaded: a customer sees only their own orders.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import sqlalchemy as sa
from aiodataloader import DataLoader
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncEngine

from auth.viewer import Viewer
from datasources.base import StoreSource, grouped, in_key_order, loader, store_errors
from datasources.orders.rows import STORE, CustomerRow, OrderEventRow, OrderLineRow, OrderRow, OrderStatus
from datasources.orders.tables import customers, order_events, order_lines, orders
from datasources.pages import Page, SortKey, page_of
from datasources.paging import after_key, partitioned
from errors import NotFound, Unauthenticated

_CUSTOMER_COLUMNS = (
    customers.c.id,
    customers.c.subject,
    customers.c.name,
    customers.c.email,
    customers.c.created_at,
)
ORDER_COLUMNS = (
    orders.c.id,
    orders.c.number,
    orders.c.customer_id,
    orders.c.status,
    orders.c.placed_at,
    orders.c.total_cents,
    orders.c.currency,
)


def _customer(r: Any) -> CustomerRow:
    return CustomerRow(r.id, r.subject, r.name, r.email, r.created_at)


def order_row(r: Any) -> OrderRow:
    return OrderRow(
        r.id, r.number, r.customer_id, OrderStatus(r.status), r.placed_at, r.total_cents, r.currency
    )


# (customer id, statuses or None, first, after): a customer's orders, newest first.
CustomerOrdersKey = tuple[int, tuple[str, ...] | None, int, SortKey | None]


class OrdersSource(StoreSource):
    """One per request, for one viewer: its loaders cache and batch for that request only."""

    store = STORE

    def __init__(self, engine: AsyncEngine, viewer: Viewer) -> None:
        super().__init__(engine)
        self.viewer = viewer

    @cached_property
    def customers_by_id(self) -> DataLoader[int, CustomerRow | None]:
        async def batch(ids: list[int]) -> list[CustomerRow | None]:
            rows = await self._rows(sa.select(*_CUSTOMER_COLUMNS).where(customers.c.id.in_(ids)))
            return in_key_order(ids, {r.id: _customer(r) for r in rows})

        return loader("customers_by_id", STORE, batch, via=self.engine)

    @cached_property
    def customers_by_subject(self) -> DataLoader[str, CustomerRow | None]:
        async def batch(subjects: list[str]) -> list[CustomerRow | None]:
            rows = await self._rows(sa.select(*_CUSTOMER_COLUMNS).where(customers.c.subject.in_(subjects)))
            found = {r.subject: _customer(r) for r in rows}
            for customer in found.values():
                self.customers_by_id.prime(customer.id, customer)
            return in_key_order(subjects, found)

        return loader("customers_by_subject", STORE, batch, via=self.engine)

    @cached_property
    def orders_by_id(self) -> DataLoader[int, OrderRow | None]:
        async def batch(ids: list[int]) -> list[OrderRow | None]:
            rows = await self._rows(sa.select(*ORDER_COLUMNS).where(orders.c.id.in_(ids)))
            return in_key_order(ids, {r.id: order_row(r) for r in rows})

        return loader("orders_by_id", STORE, batch, via=self.engine)

    @cached_property
    def lines_by_order_id(self) -> DataLoader[int, list[OrderLineRow]]:
        async def batch(order_ids: list[int]) -> list[list[OrderLineRow]]:
            rows = await self._rows(
                sa.select(
                    order_lines.c.id,
                    order_lines.c.order_id,
                    order_lines.c.book_id,
                    order_lines.c.quantity,
                    order_lines.c.unit_price_cents,
                )
                .where(order_lines.c.order_id.in_(order_ids))
                .order_by(order_lines.c.order_id, order_lines.c.id)
            )
            return [
                [OrderLineRow(r.id, r.order_id, r.book_id, r.quantity, r.unit_price_cents) for r in group]
                for group in grouped(order_ids, rows, lambda r: r.order_id)
            ]

        return loader("lines_by_order_id", STORE, batch, via=self.engine)

    @cached_property
    def events_by_order_id(self) -> DataLoader[int, list[OrderEventRow]]:
        async def batch(order_ids: list[int]) -> list[list[OrderEventRow]]:
            rows = await self._rows(
                sa.select(order_events)
                .where(order_events.c.order_id.in_(order_ids))
                .order_by(order_events.c.order_id, order_events.c.occurred_at, order_events.c.id)
            )
            return [
                [
                    OrderEventRow(
                        r.id,
                        r.order_id,
                        OrderStatus(r.from_status) if r.from_status else None,
                        OrderStatus(r.to_status),
                        r.occurred_at,
                        r.note,
                    )
                    for r in group
                ]
                for group in grouped(order_ids, rows, lambda r: r.order_id)
            ]

        return loader("events_by_order_id", STORE, batch, via=self.engine)

    @cached_property
    def orders_by_customer_id(self) -> DataLoader[CustomerOrdersKey, Page[OrderRow]]:
        async def batch(keys: list[CustomerOrdersKey]) -> list[Page[OrderRow]]:
            pages: dict[CustomerOrdersKey, Page[OrderRow]] = {}
            by_args: dict[tuple[tuple[str, ...] | None, int, SortKey | None], list[int]] = {}
            for customer_id, statuses, first, after in keys:
                by_args.setdefault((statuses, first, after), []).append(customer_id)
            for (statuses, first, after), customer_ids in by_args.items():
                query = sa.select(*ORDER_COLUMNS).where(
                    orders.c.customer_id.in_(customer_ids),
                    orders.c.status.in_(statuses) if statuses is not None else sa.true(),
                    after_key(orders.c.placed_at, orders.c.id, after, True),
                )
                rows = await self._rows(
                    partitioned(query, orders.c.customer_id, orders.c.placed_at, orders.c.id, first, True)
                )
                for customer_id, group in zip(
                    customer_ids, grouped(customer_ids, rows, lambda r: r.customer_id), strict=True
                ):
                    pages[(customer_id, statuses, first, after)] = page_of(
                        [order_row(r) for r in group], [(r.placed_at, r.id) for r in group], first, after
                    )
            return [pages[k] for k in keys]

        return loader("orders_by_customer_id", STORE, batch, via=self.engine)

    @cached_property
    def order_count_by_customer_id(self) -> DataLoader[tuple[int, tuple[str, ...] | None], int]:
        async def batch(keys: list[tuple[int, tuple[str, ...] | None]]) -> list[int]:
            counts: dict[tuple[int, tuple[str, ...] | None], int] = {}
            by_statuses: dict[tuple[str, ...] | None, list[int]] = {}
            for customer_id, statuses in keys:
                by_statuses.setdefault(statuses, []).append(customer_id)
            for statuses, customer_ids in by_statuses.items():
                rows = await self._rows(
                    sa.select(orders.c.customer_id, sa.func.count().label("n"))
                    .where(
                        orders.c.customer_id.in_(customer_ids),
                        orders.c.status.in_(statuses) if statuses is not None else sa.true(),
                    )
                    .group_by(orders.c.customer_id)
                )
                found: dict[int, int] = {r.customer_id: r.n for r in rows}
                counts.update({(c, statuses): found.get(c, 0) for c in customer_ids})
            return [counts[k] for k in keys]

        return loader("order_count_by_customer_id", STORE, batch, via=self.engine)

    # --- the viewer and what it may see ---

    async def viewer_customer(self) -> CustomerRow | None:
        """The signed-in customer, created on first sight from the token's claims."""
        viewer = self.viewer
        if not viewer.is_customer or viewer.subject is None:
            return None
        existing = await self.customers_by_subject.load(viewer.subject)
        if existing is not None:
            return existing
        insert = (
            pg_insert(customers)
            .values(
                subject=viewer.subject,
                name=viewer.name or viewer.subject,
                email=viewer.email or "",
            )
            .on_conflict_do_nothing(index_elements=[customers.c.subject])
        )
        with store_errors(STORE, via=self.engine):
            async with self.engine.begin() as conn:
                await conn.execute(insert)
                row = (
                    await conn.execute(
                        sa.select(*_CUSTOMER_COLUMNS).where(customers.c.subject == viewer.subject)
                    )
                ).one()
        created = _customer(row)
        self.customers_by_subject.clear(viewer.subject).prime(viewer.subject, created)
        self.customers_by_id.prime(created.id, created)
        return created

    async def may_see_customer(self, customer_id: int) -> bool:
        if self.viewer.is_admin:
            return True
        me = await self.viewer_customer()
        return me is not None and me.id == customer_id

    async def visible_order(self, order_id: int) -> OrderRow:
        """The order, if it exists and the viewer may see it; otherwise a coded error."""
        if not self.viewer.is_authenticated:
            raise Unauthenticated("Sign in to see orders.")
        order = await self.orders_by_id.load(order_id)
        # Someone else's order answers exactly as one that does not exist: which IDs exist is
        # not for other customers to learn.
        if order is None or not await self.may_see_customer(order.customer_id):
            raise NotFound("No order has this ID.")
        return order

    async def visible_customer(self, customer_id: int) -> CustomerRow:
        if not self.viewer.is_authenticated:
            raise Unauthenticated("Sign in to see customers.")
        customer = await self.customers_by_id.load(customer_id)
        if customer is None or not await self.may_see_customer(customer_id):
            raise NotFound("No customer has this ID.")
        return customer
