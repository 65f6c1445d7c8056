"""Writes to the orders store for checkout: open an order once per idempotency key, move it through
its lifecycle with conditional UPDATEs, and record every transition as an event."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncEngine

from datasources.base import store_errors
from datasources.orders.rows import STORE, OrderLineRow, OrderRow, OrderStatus
from datasources.orders.source import ORDER_COLUMNS, order_row
from datasources.orders.tables import order_events, order_lines, orders


@dataclass(frozen=True, slots=True)
class NewLine:
    book_id: int
    quantity: int
    unit_price_cents: int


@dataclass(frozen=True, slots=True)
class Opened:
    order: OrderRow
    created: bool  # False: the key was used before, and `order` is what it made
    request_hash: str | None


@dataclass(frozen=True, slots=True)
class Transition:
    order: OrderRow
    from_status: OrderStatus
    occurred_at: datetime


class OrderLedger:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def open(
        self,
        customer_id: int,
        idempotency_key: str,
        request_hash: str,
        lines: Sequence[NewLine],
        currency: str,
        *,
        placed_at: datetime,
    ) -> Opened:
        """A PENDING order with its lines, or the order this customer already opened with this key.
        `placed_at` comes from the server's clock, which recovery ages and TRENDING also read."""
        with store_errors(STORE, via=self.engine):
            async with self.engine.begin() as conn:
                order_id = (
                    await conn.execute(
                        sa.select(sa.func.nextval(sa.func.pg_get_serial_sequence("orders", "id")))
                    )
                ).scalar_one()
                # Concurrent sends of one key meet at the unique constraint: the losers wait for the
                # winner's commit, insert nothing, and read the winner's order below.
                inserted = (
                    await conn.execute(
                        pg_insert(orders)
                        .values(
                            id=order_id,
                            number=sa.func.concat("BG-", placed_at.strftime("%y%m%d"), "-", order_id),
                            placed_at=placed_at,
                            customer_id=customer_id,
                            status=OrderStatus.PENDING,
                            total_cents=sum(line.quantity * line.unit_price_cents for line in lines),
                            currency=currency,
                            idempotency_key=idempotency_key,
                            request_hash=request_hash,
                        )
                        .on_conflict_do_nothing(constraint="uq_orders_customer_idempotency_key")
                        .returning(*ORDER_COLUMNS)
                    )
                ).first()
                if inserted is not None:
                    await conn.execute(
                        sa.insert(order_lines),
                        [
                            {
                                "order_id": order_id,
                                "book_id": line.book_id,
                                "quantity": line.quantity,
                                "unit_price_cents": line.unit_price_cents,
                            }
                            for line in lines
                        ],
                    )
                    await conn.execute(
                        sa.insert(order_events).values(
                            order_id=order_id, from_status=None, to_status=OrderStatus.PENDING
                        )
                    )
                    return Opened(order_row(inserted), True, request_hash)
                existing = (
                    await conn.execute(
                        sa.select(*ORDER_COLUMNS, orders.c.request_hash).where(
                            orders.c.customer_id == customer_id, orders.c.idempotency_key == idempotency_key
                        )
                    )
                ).one()
                return Opened(order_row(existing), False, existing.request_hash)

    async def transition(
        self,
        order_id: int,
        from_statuses: Sequence[OrderStatus],
        to_status: OrderStatus,
        *,
        note: str | None = None,
        code: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> Transition | None:
        """Move the order to `to_status` if it is in one of `from_statuses`; None if it was not.

        The row is locked before its status is checked, so of two processes racing to decide an
        order exactly one wins, and the loser learns it lost.
        """
        with store_errors(STORE, via=self.engine):
            async with self.engine.begin() as conn:
                from_status = (
                    await conn.execute(
                        sa.select(orders.c.status).where(orders.c.id == order_id).with_for_update()
                    )
                ).scalar_one_or_none()
                if from_status is None or from_status not in from_statuses:
                    return None
                row = (
                    await conn.execute(
                        sa.update(orders)
                        .where(orders.c.id == order_id)
                        .values(status=to_status)
                        .returning(*ORDER_COLUMNS)
                    )
                ).one()
                occurred_at = (
                    await conn.execute(
                        sa.insert(order_events)
                        .values(
                            order_id=order_id,
                            from_status=from_status,
                            to_status=to_status,
                            note=note,
                            code=code,
                            details=details,
                        )
                        .returning(order_events.c.occurred_at)
                    )
                ).scalar_one()
                return Transition(order_row(row), OrderStatus(from_status), occurred_at)

    async def get(self, order_id: int) -> OrderRow | None:
        with store_errors(STORE, via=self.engine):
            async with self.engine.connect() as conn:
                row = (await conn.execute(sa.select(*ORDER_COLUMNS).where(orders.c.id == order_id))).first()
                return order_row(row) if row is not None else None

    async def lines(self, order_id: int) -> list[OrderLineRow]:
        with store_errors(STORE, via=self.engine):
            async with self.engine.connect() as conn:
                rows = await conn.execute(
                    sa.select(order_lines)
                    .where(order_lines.c.order_id == order_id)
                    .order_by(order_lines.c.id)
                )
                return [
                    OrderLineRow(r.id, r.order_id, r.book_id, r.quantity, r.unit_price_cents) for r in rows
                ]

    async def statuses(self, order_ids: Sequence[int]) -> dict[int, OrderStatus]:
        with store_errors(STORE, via=self.engine):
            async with self.engine.connect() as conn:
                rows = await conn.execute(
                    sa.select(orders.c.id, orders.c.status).where(orders.c.id.in_(order_ids))
                )
                return {r.id: OrderStatus(r.status) for r in rows}

    async def pending_before(self, cutoff: datetime, limit: int = 500) -> list[OrderRow]:
        """PENDING orders placed before `cutoff`: checkouts that stopped half-way."""
        with store_errors(STORE, via=self.engine):
            async with self.engine.connect() as conn:
                rows = await conn.execute(
                    sa.select(*ORDER_COLUMNS)
                    .where(orders.c.status == OrderStatus.PENDING, orders.c.placed_at < cutoff)
                    .order_by(orders.c.placed_at)
                    .limit(limit)
                )
                return [order_row(r) for r in rows]

    async def last_event(
        self, order_id: int, to_status: OrderStatus
    ) -> tuple[str | None, dict[str, Any] | None]:
        """(code, details) of the order's latest move to `to_status` (why it was rejected, say)."""
        with store_errors(STORE, via=self.engine):
            async with self.engine.connect() as conn:
                row = (
                    await conn.execute(
                        sa.select(order_events.c.code, order_events.c.details)
                        .where(order_events.c.order_id == order_id, order_events.c.to_status == to_status)
                        .order_by(order_events.c.id.desc())
                        .limit(1)
                    )
                ).first()
                return (row.code, row.details) if row is not None else (None, None)
