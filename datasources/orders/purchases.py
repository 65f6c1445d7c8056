"""What customers bought, read from the orders store for the recommender: one customer's history,
co-purchase counts for a few books, recent sales, all-time best sellers, and every basket for a full
rebuild."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from datasources.base import store_errors
from datasources.orders.rows import STORE, OrderStatus
from datasources.orders.tables import order_lines, orders

# Orders that never happened teach nothing about taste.
_COUNTED = (OrderStatus.CANCELLED, OrderStatus.REJECTED)


@dataclass(frozen=True, slots=True)
class Purchase:
    book_id: int
    last_bought: datetime


@dataclass(frozen=True, slots=True)
class Sale:
    order_id: int
    customer_id: int
    placed_at: datetime
    book_id: int
    quantity: int


class PurchaseHistory:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def of_customer(self, customer_id: int) -> list[Purchase]:
        """The customer's distinct books, most recently bought first."""
        last = sa.func.max(orders.c.placed_at).label("last_bought")
        return [
            Purchase(r.book_id, r.last_bought)
            for r in await self._all(
                sa.select(order_lines.c.book_id, last)
                .join(orders, orders.c.id == order_lines.c.order_id)
                .where(orders.c.customer_id == customer_id, orders.c.status.not_in(_COUNTED))
                .group_by(order_lines.c.book_id)
                .order_by(last.desc(), order_lines.c.book_id)
            )
        ]

    async def co_counts(self, book_ids: Sequence[int]) -> dict[int, dict[int, int]]:
        """book → {other book: customers who bought both}, for each of `book_ids`."""
        mine, other = order_lines.alias("mine"), order_lines.alias("other")
        mine_orders, other_orders = orders.alias("mine_orders"), orders.alias("other_orders")
        rows = await self._all(
            sa.select(
                mine.c.book_id.label("book_id"),
                other.c.book_id.label("other_id"),
                sa.func.count(sa.distinct(mine_orders.c.customer_id)).label("n"),
            )
            .join(mine_orders, mine_orders.c.id == mine.c.order_id)
            .join(other_orders, other_orders.c.customer_id == mine_orders.c.customer_id)
            .join(other, sa.and_(other.c.order_id == other_orders.c.id, other.c.book_id != mine.c.book_id))
            .where(
                mine.c.book_id.in_(book_ids),
                mine_orders.c.status.not_in(_COUNTED),
                other_orders.c.status.not_in(_COUNTED),
            )
            .group_by(mine.c.book_id, other.c.book_id)
        )
        counts: dict[int, dict[int, int]] = {book_id: {} for book_id in book_ids}
        for r in rows:
            counts[r.book_id][r.other_id] = r.n
        return counts

    async def customer_counts(self, book_ids: Sequence[int]) -> dict[int, int]:
        """book → number of customers who bought it."""
        rows = await self._all(
            sa.select(order_lines.c.book_id, sa.func.count(sa.distinct(orders.c.customer_id)).label("n"))
            .join(orders, orders.c.id == order_lines.c.order_id)
            .where(order_lines.c.book_id.in_(book_ids), orders.c.status.not_in(_COUNTED))
            .group_by(order_lines.c.book_id)
        )
        return {r.book_id: r.n for r in rows}

    async def recent_sales(self, since: datetime, *, before: datetime | None = None) -> list[Sale]:
        """Every line of the orders placed since `since` (and before `before`): trending's input."""
        statement = self._sales().where(orders.c.placed_at >= since)
        if before is not None:
            statement = statement.where(orders.c.placed_at < before)
        return [
            Sale(r.order_id, r.customer_id, r.placed_at, r.book_id, r.quantity)
            for r in await self._all(statement)
        ]

    async def latest_sale(self, *, before: datetime) -> datetime | None:
        """When the most recent counted order before `before` was placed (None: there is none)."""
        rows = await self._all(
            sa.select(sa.func.max(orders.c.placed_at)).where(
                orders.c.status.not_in(_COUNTED), orders.c.placed_at < before
            )
        )
        latest: datetime | None = rows[0][0]
        return latest

    async def best_sellers(self, limit: int) -> list[tuple[int, int]]:
        """(book, copies sold) of the `limit` books sold most over the whole history, best first."""
        copies = sa.func.sum(order_lines.c.quantity).label("copies")
        rows = await self._all(
            sa.select(order_lines.c.book_id, copies)
            .join(orders, orders.c.id == order_lines.c.order_id)
            .where(orders.c.status.not_in(_COUNTED))
            .group_by(order_lines.c.book_id)
            .order_by(copies.desc(), order_lines.c.book_id)
            .limit(limit)
        )
        return [(r.book_id, int(r.copies)) for r in rows]

    async def all_sales(self, chunk: int = 50_000) -> AsyncIterator[list[Sale]]:
        """Every counted order line, in order id order, a chunk at a time (rebuilds, evaluation)."""
        with store_errors(STORE, via=self.engine):
            async with self.engine.connect() as conn:
                result = await conn.stream(self._sales().order_by(orders.c.id, order_lines.c.book_id))
                async for rows in result.partitions(chunk):
                    yield [Sale(r.order_id, r.customer_id, r.placed_at, r.book_id, r.quantity) for r in rows]

    async def line_count(self) -> int:
        rows = await self._all(sa.select(sa.func.count()).select_from(order_lines))
        return int(rows[0][0])

    @staticmethod
    def _sales() -> sa.Select[tuple[int, int, datetime, int, int]]:
        return (
            sa.select(
                orders.c.id.label("order_id"),
                orders.c.customer_id,
                orders.c.placed_at,
                order_lines.c.book_id,
                order_lines.c.quantity,
            )
            .join(orders, orders.c.id == order_lines.c.order_id)
            .where(orders.c.status.not_in(_COUNTED))
        )

    async def _all(self, statement: sa.Executable) -> Sequence[sa.Row[Any]]:
        with store_errors(STORE, via=self.engine):
            async with self.engine.connect() as conn:
                return (await conn.execute(statement)).all()
