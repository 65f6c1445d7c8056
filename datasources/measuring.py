"""What the benchmarks ask of the stores: sample ids, row counts, server versions and a keyword
baseline for judging semantic search. Not features: nothing serving requests calls these."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

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


# A customer's 50 newest orders with their customer's name and lines, as PostGraphile v4 writes
# that query: correlated subqueries on the tables, raw columns (no global IDs, cents as numbers).
_POSTGRAPHILE_SHAPE = (
    "SELECT json_build_object('orders', (SELECT coalesce(json_agg(json_build_object("
    "'number', o.number, 'status', o.status, 'totalCents', o.total_cents::text, "
    "'customer', (SELECT json_build_object('name', c2.name) FROM customers c2 WHERE c2.id = o.customer_id), "
    "'lines', (SELECT coalesce(json_agg(json_build_object('bookId', l.book_id::text, 'quantity', l.quantity, "
    "'unitPriceCents', l.unit_price_cents::text) ORDER BY l.id), '[]'::json) "
    "FROM order_lines l WHERE l.order_id = o.id))), '[]'::json) "
    "FROM (SELECT * FROM orders x WHERE x.customer_id = c.id "
    "ORDER BY x.placed_at DESC, x.id DESC LIMIT 50) o))::text FROM customers c WHERE c.subject = $1"
)


async def postgraphile_shape(engine: AsyncEngine, subject: str) -> str:
    """The comparison's query in PostGraphile's statement shape: a reference for the plan's own,
    sent as the plan's is (asyncpg's own connection, its statement prepared once)."""
    async with engine.connect() as conn:
        driver: Any = (await conn.get_raw_connection()).driver_connection
        return str(await driver.fetchval(_POSTGRAPHILE_SHAPE, subject))
