"""Stock movements in the inventory store: reservations held for orders, shipping, restocking.

Every movement is one short transaction and a conditional UPDATE (never read-then-write), and every
one is keyed by the order it serves, so a retried step finds its own earlier work and does nothing.

A movement that takes a book's availability across zero also raises its `search_version`, in the
same UPDATE: the search index's in-stock flag must follow, and the mark is committed with the
change itself, so neither a search outage nor a crash after the commit can lose it
(indexing.IndexFollower applies it and records `search_applied`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from datasources.base import store_errors, upsert
from datasources.inventory.rows import STORE, StockRow
from datasources.inventory.tables import stock_levels, stock_reservations


class Outcome(StrEnum):
    RESERVED = "RESERVED"  # held now
    ALREADY_HELD = "ALREADY_HELD"  # held by an earlier attempt for the same order
    RELEASED = "RELEASED"  # held once and given back: the order was compensated; never hold again
    SHORT = "SHORT"  # not enough copies of some book; nothing was held


@dataclass(frozen=True, slots=True)
class Movement:
    """The stock levels a movement left, and which of those books the search index has yet to follow."""

    levels: list[StockRow] = field(default_factory=list)
    unindexed: list[int] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Reservation:
    outcome: Outcome
    moved: Movement = field(default_factory=Movement)
    # book id → copies available, for each book that could not be held.
    shortages: dict[int, int] = field(default_factory=dict)

    @property
    def held(self) -> bool:
        return self.outcome in (Outcome.RESERVED, Outcome.ALREADY_HELD)


_LEVEL = (stock_levels.c.book_id, stock_levels.c.on_hand, stock_levels.c.reserved)
# After the UPDATE: whether the index is behind this book (this movement's mark or an earlier one).
_UNINDEXED = (stock_levels.c.search_version > stock_levels.c.search_applied).label("unindexed")


def _level(row: Any) -> StockRow:
    return StockRow(row.book_id, row.on_hand, row.reserved)


def _movement(rows: Sequence[Any]) -> Movement:
    return Movement([_level(r) for r in rows], [r.book_id for r in rows if r.unindexed])


def _search_version(on_hand_change: Any, reserved_change: Any) -> sa.ColumnElement[int]:
    """The version after a movement: one up when it takes availability across zero, either way.
    SET expressions read the row as it was before the UPDATE."""
    before = stock_levels.c.on_hand - stock_levels.c.reserved
    after = before + on_hand_change - reserved_change
    return stock_levels.c.search_version + sa.case(((before > 0) != (after > 0), 1), else_=0)


async def _statuses(conn: AsyncConnection, order_id: int) -> set[str]:
    """The statuses of what the order holds or held (none: it never reserved)."""
    rows = await conn.execute(
        sa.select(stock_reservations.c.status).where(stock_reservations.c.order_id == order_id)
    )
    return set(rows.scalars())


class StockLedger:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def reserve(self, order_id: int, lines: Sequence[tuple[int, int]]) -> Reservation:
        """Hold `quantity` copies of each (book id, quantity) for the order: all of them or none."""
        with store_errors(STORE, via=self.engine):
            async with self.engine.connect() as conn, conn.begin() as transaction:
                earlier = await _statuses(conn, order_id)
                if not earlier:
                    # Claim the order first: a second attempt at the same order (the same key sent
                    # twice at once, recovery beside the request) waits here on the first's rows
                    # and then finds them, instead of reserving the copies a second time.
                    claimed = (
                        await conn.execute(
                            upsert(conn, stock_reservations)
                            .values(
                                [
                                    {"order_id": order_id, "book_id": b, "quantity": q, "status": "HELD"}
                                    for b, q in lines
                                ]
                            )
                            .on_conflict_do_nothing()
                            .returning(stock_reservations.c.book_id)
                        )
                    ).all()
                    if len(claimed) < len(lines):
                        await transaction.rollback()
                        earlier = await _statuses(conn, order_id)
                if earlier:
                    held = earlier != {"RELEASED"}
                    return Reservation(Outcome.ALREADY_HELD if held else Outcome.RELEASED)
                changed: list[Any] = []
                short: list[int] = []
                # In book order, so two orders never take the rows' locks in opposite orders
                # (SQLite locks the whole file, but other databases lock rows).
                for book_id, quantity in sorted(lines):
                    row = (
                        await conn.execute(
                            sa.update(stock_levels)
                            .where(
                                stock_levels.c.book_id == book_id,
                                stock_levels.c.on_hand - stock_levels.c.reserved >= quantity,
                            )
                            .values(
                                reserved=stock_levels.c.reserved + quantity,
                                search_version=_search_version(0, quantity),
                                updated_at=sa.func.now(),
                            )
                            .returning(*_LEVEL, _UNINDEXED)
                        )
                    ).first()
                    if row is None:
                        short.append(book_id)
                    else:
                        changed.append(row)
                if short:
                    await transaction.rollback()  # the claim with it
                else:
                    return Reservation(Outcome.RESERVED, _movement(changed))
            # Outside the rolled-back transaction: what is left, for the client's error message.
            async with self.engine.connect() as conn:
                return Reservation(Outcome.SHORT, shortages=await self._available(conn, short))

    async def release(self, order_id: int) -> Movement:
        """Give back what the order holds (compensation, cancellation). Nothing held → nothing done."""
        return await self._settle(order_id, "RELEASED", ship=False)

    async def ship(self, order_id: int) -> Movement:
        """The held copies leave the warehouse: on hand and reserved both go down."""
        return await self._settle(order_id, "SHIPPED", ship=True)

    async def _settle(self, order_id: int, status: str, *, ship: bool) -> Movement:
        with store_errors(STORE, via=self.engine):
            async with self.engine.begin() as conn:
                held = (
                    await conn.execute(
                        sa.update(stock_reservations)
                        .where(
                            stock_reservations.c.order_id == order_id, stock_reservations.c.status == "HELD"
                        )
                        .values(status=status, updated_at=sa.func.now())
                        .returning(stock_reservations.c.book_id, stock_reservations.c.quantity)
                    )
                ).all()
                changed = []
                for book_id, quantity in sorted(held):
                    # Shipping takes the copies off both counts, so availability stays as it was.
                    on_hand_change = -quantity if ship else 0
                    row = (
                        await conn.execute(
                            sa.update(stock_levels)
                            .where(stock_levels.c.book_id == book_id)
                            .values(
                                on_hand=stock_levels.c.on_hand + on_hand_change,
                                reserved=stock_levels.c.reserved - quantity,
                                search_version=_search_version(on_hand_change, -quantity),
                                updated_at=sa.func.now(),
                            )
                            .returning(*_LEVEL, _UNINDEXED)
                        )
                    ).one()
                    changed.append(row)
                return _movement(changed)

    async def restock(self, book_id: int, quantity: int) -> Movement:
        """Add copies to the warehouse (a book never stocked before gets its stock row)."""
        with store_errors(STORE, via=self.engine):
            async with self.engine.begin() as conn:
                row = (
                    await conn.execute(
                        sa.update(stock_levels)
                        .where(stock_levels.c.book_id == book_id)
                        .values(
                            on_hand=stock_levels.c.on_hand + quantity,
                            search_version=_search_version(quantity, 0),
                            updated_at=sa.func.now(),
                        )
                        .returning(*_LEVEL, _UNINDEXED)
                    )
                ).first()
                if row is None:
                    row = (
                        await conn.execute(
                            sa.insert(stock_levels)
                            .values(
                                book_id=book_id,
                                on_hand=quantity,
                                reserved=0,
                                search_version=int(quantity > 0),
                            )
                            .returning(*_LEVEL, _UNINDEXED)
                        )
                    ).one()
                return _movement([row])

    async def hold_existing(self, lines: Sequence[tuple[int, int, int]]) -> int:
        """Record (order id, book id, quantity) holds for orders confirmed elsewhere (demo data,
        imports) on top of the stock on sale, which stays as it was. Holds already recorded are
        skipped, so running it again changes nothing. Returns how many were new."""
        new = 0
        with store_errors(STORE, via=self.engine):
            async with self.engine.begin() as conn:
                for order_id, book_id, quantity in lines:
                    inserted = (
                        await conn.execute(
                            sa.insert(stock_reservations)
                            .values(order_id=order_id, book_id=book_id, quantity=quantity, status="HELD")
                            .prefix_with("OR IGNORE", dialect="sqlite")
                            .returning(stock_reservations.c.order_id)
                        )
                    ).first()
                    if inserted is None:
                        continue
                    new += 1
                    await conn.execute(
                        sa.update(stock_levels)
                        .where(stock_levels.c.book_id == book_id)
                        .values(
                            on_hand=stock_levels.c.on_hand + quantity,
                            reserved=stock_levels.c.reserved + quantity,
                        )
                    )
        return new

    async def held_order_ids(self) -> list[int]:
        """Orders that still hold stock (recovery checks each against its order's status)."""
        with store_errors(STORE, via=self.engine):
            async with self.engine.connect() as conn:
                rows = await conn.execute(
                    sa.select(stock_reservations.c.order_id)
                    .where(stock_reservations.c.status == "HELD")
                    .distinct()
                    .order_by(stock_reservations.c.order_id)
                )
                return list(rows.scalars())

    async def mark_indexed(self, versions: Mapping[int, int]) -> None:
        """Record book id → the search version now in the index. Never moves backwards, so an
        applier that finishes late cannot hide a newer change from the next one."""
        if not versions:
            return
        with store_errors(STORE, via=self.engine):
            async with self.engine.begin() as conn:
                await conn.execute(
                    sa.update(stock_levels)
                    .where(
                        stock_levels.c.book_id == sa.bindparam("book"),
                        stock_levels.c.search_applied < sa.bindparam("version"),
                    )
                    .values(search_applied=sa.bindparam("version")),
                    [{"book": book_id, "version": version} for book_id, version in versions.items()],
                )

    @staticmethod
    async def _available(conn: AsyncConnection, book_ids: list[int]) -> dict[int, int]:
        rows = await conn.execute(sa.select(*_LEVEL).where(stock_levels.c.book_id.in_(book_ids)))
        found = {r.book_id: _level(r).available for r in rows}
        return {book_id: found.get(book_id, 0) for book_id in book_ids}
