"""Bulk writes of the orders store: the demo customers and their order history."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncEngine

from catalog.records import CustomerRecord, OrderRecord
from datasources.base import WRITE_CHUNK, Progress, batched, no_progress
from datasources.orders.rows import OrderStatus
from datasources.orders.tables import customers, order_events, order_lines, orders


async def write_customers(
    engine: AsyncEngine, records: Iterable[CustomerRecord], progress: Progress = no_progress
) -> dict[str, int]:
    """Insert or update customers by subject; returns subject → customer id."""
    ids: dict[str, int] = {}
    for chunk in batched(records, WRITE_CHUNK):
        async with engine.begin() as conn:
            insert = postgresql.insert(customers)
            rows = await conn.execute(
                insert.on_conflict_do_update(
                    index_elements=[customers.c.subject],
                    set_={"name": insert.excluded.name, "email": insert.excluded.email},
                ).returning(customers.c.subject, customers.c.id),
                [{"subject": r.subject, "name": r.name, "email": r.email} for r in chunk],
            )
            ids.update(dict(rows.all()))
        progress(len(chunk))
    return ids


# The lifecycle each final status went through, with the delay after the previous step.
_LIFECYCLES: dict[str, list[tuple[OrderStatus, timedelta]]] = {
    OrderStatus.PENDING: [],
    OrderStatus.CONFIRMED: [(OrderStatus.CONFIRMED, timedelta(minutes=2))],
    OrderStatus.SHIPPED: [
        (OrderStatus.CONFIRMED, timedelta(minutes=2)),
        (OrderStatus.SHIPPED, timedelta(days=1)),
    ],
    OrderStatus.DELIVERED: [
        (OrderStatus.CONFIRMED, timedelta(minutes=2)),
        (OrderStatus.SHIPPED, timedelta(days=1)),
        (OrderStatus.DELIVERED, timedelta(days=3)),
    ],
    OrderStatus.CANCELLED: [(OrderStatus.CANCELLED, timedelta(hours=5))],
    OrderStatus.REJECTED: [(OrderStatus.REJECTED, timedelta(seconds=3))],
}


def _events(order_id: int, record: OrderRecord) -> list[dict[str, Any]]:
    # A stable jitter per order so timelines differ but re-seeding is reproducible.
    jitter = int(hashlib.blake2b(record.number.encode(), digest_size=2).hexdigest(), 16) % 600
    at: datetime = record.placed_at
    events = [
        {
            "order_id": order_id,
            "from_status": None,
            "to_status": OrderStatus.PENDING,
            "occurred_at": at,
            "note": None,
        }
    ]
    previous: OrderStatus | None = OrderStatus.PENDING
    for status, delay in _LIFECYCLES[record.status]:
        at = at + delay + timedelta(seconds=jitter)
        events.append(
            {
                "order_id": order_id,
                "from_status": previous,
                "to_status": status,
                "occurred_at": at,
                "note": None,
            }
        )
        previous = status
    return events


async def write_orders(
    engine: AsyncEngine,
    records: Iterable[OrderRecord],
    books_by_isbn: dict[str, tuple[int, int]],
    customer_ids: dict[str, int],
    progress: Progress = no_progress,
    currency: str = "USD",
) -> int:
    """Insert orders that do not exist yet (by number), with their lines and events."""
    written = 0
    for chunk in batched(records, WRITE_CHUNK * 2):
        priced = [
            (r, [(books_by_isbn[line.isbn], line.quantity) for line in r.lines if line.isbn in books_by_isbn])
            for r in chunk
            if r.customer_subject in customer_ids
        ]
        priced = [(r, lines) for r, lines in priced if lines]
        if priced:
            async with engine.begin() as conn:
                result = await conn.execute(
                    postgresql.insert(orders)
                    .on_conflict_do_nothing(index_elements=[orders.c.number])
                    .returning(orders.c.number, orders.c.id),
                    [
                        {
                            "number": r.number,
                            "customer_id": customer_ids[r.customer_subject],
                            "status": r.status,
                            "placed_at": r.placed_at,
                            "total_cents": sum(price * qty for (_, price), qty in lines),
                            "currency": currency,
                        }
                        for r, lines in priced
                    ],
                )
                new_ids: dict[str, int] = {row.number: row.id for row in result}
                fresh = [(new_ids[r.number], r, lines) for r, lines in priced if r.number in new_ids]
                if fresh:
                    await conn.execute(
                        sa.insert(order_lines),
                        [
                            {"order_id": oid, "book_id": book_id, "quantity": qty, "unit_price_cents": price}
                            for oid, _, lines in fresh
                            for (book_id, price), qty in lines
                        ],
                    )
                    await conn.execute(
                        sa.insert(order_events), [e for oid, r, _ in fresh for e in _events(oid, r)]
                    )
                written += len(fresh)
        progress(len(chunk))
    return written


async def open_order_lines(engine: AsyncEngine) -> list[tuple[int, int, int]]:
    """(order id, book id, quantity) of every confirmed, unshipped order: the stock they hold."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.select(order_lines.c.order_id, order_lines.c.book_id, order_lines.c.quantity)
            .join(orders, orders.c.id == order_lines.c.order_id)
            .where(orders.c.status == OrderStatus.CONFIRMED)
            .order_by(order_lines.c.order_id, order_lines.c.book_id)
        )
        return [(r.order_id, r.book_id, r.quantity) for r in rows]
