"""What the benchmarks ask of the stores: sample ids, row counts, server versions and a keyword
baseline for judging semantic search. Not features: nothing serving requests calls these."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from datasources.inventory.bulk import book_count
from datasources.inventory.tables import books
from datasources.orders.tables import customers, order_lines, orders


async def customers_by_order_count(engine: AsyncEngine, limit: int, min_orders: int = 1) -> list[str]:
    """Subjects of the customers with the most orders (benchmarks rotate through them)."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.select(customers.c.subject)
            .join(orders, orders.c.customer_id == customers.c.id)
            .group_by(customers.c.id, customers.c.subject)
            .having(sa.func.count() >= min_orders)
            .order_by(sa.func.count().desc(), customers.c.id)
            .limit(limit)
        )
        return [r.subject for r in rows]


async def row_counts(inventory: AsyncEngine, orders_engine: AsyncEngine) -> dict[str, int]:
    books_total = await book_count(inventory)
    async with orders_engine.connect() as conn:
        order_count = (await conn.execute(sa.select(sa.func.count()).select_from(orders))).scalar_one()
        line_count = (await conn.execute(sa.select(sa.func.count()).select_from(order_lines))).scalar_one()
    return {"books": books_total, "orders": order_count, "order_lines": line_count}


async def server_versions(inventory: AsyncEngine, orders_engine: AsyncEngine) -> dict[str, str]:
    async with inventory.connect() as conn:
        inventory_version = str((await conn.execute(sa.text("SELECT sqlite_version()"))).scalar_one())
    async with orders_engine.connect() as conn:
        orders_version = str((await conn.execute(sa.text("SHOW server_version"))).scalar_one())
    return {"sqlite": inventory_version, "postgresql": orders_version}


async def sample_book_ids(engine: AsyncEngine, limit: int) -> list[int]:
    """Book ids spread evenly over the catalog."""
    async with engine.connect() as conn:
        total = (await conn.execute(sa.select(sa.func.count()).select_from(books))).scalar_one()
        step = max(total // max(limit, 1), 1)
        rows = await conn.execute(
            sa.select(books.c.id).where(books.c.id % step == 0).order_by(books.c.id).limit(limit)
        )
        return [r.id for r in rows]


async def keyword_search(engine: AsyncEngine, words: Sequence[str], limit: int) -> list[int]:
    """Book ids ranked by how many of `words` their title or description contains (a baseline
    for judging semantic search, not a feature)."""
    if not words:
        return []
    text = sa.func.lower(books.c.title + " " + books.c.description)
    matched = sum((sa.case((text.contains(w, autoescape=True), 1), else_=0) for w in words), sa.literal(0))
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.select(books.c.id, matched.label("matched"))
            .where(matched > 0)
            .order_by(sa.desc("matched"), books.c.id)
            .limit(limit)
        )
        return [r.id for r in rows]
