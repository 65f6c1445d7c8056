"""Bulk writes for seeding and imports: idempotent upserts in chunks, reporting progress."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from catalog.records import BookRecord, CustomerRecord, OrderRecord
from datasources.inventory_tables import authors, book_authors, book_genres, books, stock_levels
from datasources.orders.rows import OrderStatus
from datasources.orders.tables import customers, order_events, order_lines, orders

Progress = Callable[[int], None]

CHUNK = 500


def _upsert(conn: AsyncConnection, table: sa.Table) -> Any:
    dialect = sqlite if conn.dialect.name == "sqlite" else postgresql
    return dialect.insert(table)


def batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _noop(_: int) -> None:
    return None


async def write_books(
    engine: AsyncEngine, records: Iterable[BookRecord], progress: Progress = _noop
) -> dict[str, tuple[int, int]]:
    """Insert or update books by ISBN; returns isbn → (book id, price in cents)."""
    written: dict[str, tuple[int, int]] = {}
    for chunk in batched(records, CHUNK):
        async with engine.begin() as conn:
            written.update(await _write_book_chunk(conn, chunk))
        progress(len(chunk))
    async with engine.begin() as conn:
        # Fresh statistics let the planner pick the selective index after a large load.
        await conn.execute(sa.text("PRAGMA optimize" if conn.dialect.name == "sqlite" else "ANALYZE"))
    return written


async def _write_book_chunk(conn: AsyncConnection, chunk: Sequence[BookRecord]) -> dict[str, tuple[int, int]]:
    names = sorted({name for r in chunk for name in r.authors})
    await conn.execute(_upsert(conn, authors).on_conflict_do_nothing(), [{"name": n} for n in names])
    author_ids = dict(
        (await conn.execute(sa.select(authors.c.name, authors.c.id).where(authors.c.name.in_(names)))).all()
    )

    insert = _upsert(conn, books)
    await conn.execute(
        insert.on_conflict_do_update(
            index_elements=[books.c.isbn],
            set_={
                "title": insert.excluded.title,
                "description": insert.excluded.description,
                "published_year": insert.excluded.published_year,
                "price_cents": insert.excluded.price_cents,
                "updated_at": sa.func.now(),
            },
        ),
        [
            {
                "isbn": r.isbn,
                "title": r.title,
                "description": r.description,
                "published_year": r.published_year,
                "price_cents": r.price_cents,
            }
            for r in chunk
        ],
    )
    isbns = [r.isbn for r in chunk]
    book_ids = dict(
        (await conn.execute(sa.select(books.c.isbn, books.c.id).where(books.c.isbn.in_(isbns)))).all()
    )
    ids = list(book_ids.values())

    # Authors and genres are replaced wholesale: the file is the truth for the books it names.
    await conn.execute(sa.delete(book_authors).where(book_authors.c.book_id.in_(ids)))
    await conn.execute(sa.delete(book_genres).where(book_genres.c.book_id.in_(ids)))
    author_rows = [
        {"book_id": book_ids[r.isbn], "author_id": author_ids[name], "position": position}
        for r in chunk
        for position, name in enumerate(r.authors)
    ]
    genre_rows = [
        {
            "book_id": book_ids[r.isbn],
            "genre": g,
            "title": r.title,
            "price_cents": r.price_cents,
            "published_year": r.published_year,
        }
        for r in chunk
        for g in r.genres
    ]
    if author_rows:
        await conn.execute(sa.insert(book_authors), author_rows)
    if genre_rows:
        await conn.execute(sa.insert(book_genres), genre_rows)

    stock = _upsert(conn, stock_levels)
    await conn.execute(
        stock.on_conflict_do_update(
            index_elements=[stock_levels.c.book_id],
            # Never below what is reserved for open orders.
            set_={
                "on_hand": sa.case(
                    (stock.excluded.on_hand < stock_levels.c.reserved, stock_levels.c.reserved),
                    else_=stock.excluded.on_hand,
                ),
                # Title, authors, genres, price or stock may have changed: the index follows
                # (indexing.IndexFollower compares and rewrites only what differs).
                "search_version": stock_levels.c.search_version + 1,
                "updated_at": sa.func.now(),
            },
        ),
        [
            {"book_id": book_ids[r.isbn], "on_hand": r.stock, "reserved": 0, "search_version": 1}
            for r in chunk
        ],
    )
    return {r.isbn: (book_ids[r.isbn], r.price_cents) for r in chunk}


async def write_customers(
    engine: AsyncEngine, records: Iterable[CustomerRecord], progress: Progress = _noop
) -> dict[str, int]:
    """Insert or update customers by subject; returns subject → customer id."""
    ids: dict[str, int] = {}
    for chunk in batched(records, CHUNK):
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
    progress: Progress = _noop,
    currency: str = "USD",
) -> int:
    """Insert orders that do not exist yet (by number), with their lines and events."""
    written = 0
    for chunk in batched(records, CHUNK * 2):
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


@dataclass(frozen=True, slots=True)
class BookDocument:
    """A book as the search index sees it."""

    id: int
    title: str
    description: str
    published_year: int
    price_cents: int
    genres: tuple[str, ...]
    authors: tuple[str, ...]
    author_ids: tuple[int, ...]
    in_stock: bool
    # The book's search version when it was read: everything else here is at least that new.
    version: int = 0


async def book_documents(
    engine: AsyncEngine, chunk: int = 1000, book_ids: Sequence[int] | None = None
) -> AsyncIterator[list[BookDocument]]:
    """Every book (or the given ones) with its authors, genres and stock, `chunk` books at a time."""
    last_id = 0
    while True:
        async with engine.connect() as conn:
            # Versions (and the stock they count) first, the rest after: a change committed in
            # between makes the document newer than its version, never older, so the version
            # that labels it in the index cannot claim a change the document does not show.
            query = (
                sa.select(
                    books.c.id,
                    (stock_levels.c.on_hand - stock_levels.c.reserved).label("available"),
                    stock_levels.c.search_version,
                )
                .outerjoin(stock_levels, stock_levels.c.book_id == books.c.id)
                .where(books.c.id > last_id)
                .order_by(books.c.id)
                .limit(chunk)
            )
            if book_ids is not None:
                query = query.where(books.c.id.in_(book_ids))
            levels = (await conn.execute(query)).all()
            if not levels:
                return
            ids = [r.id for r in levels]
            found = {r.id: r for r in await conn.execute(sa.select(books).where(books.c.id.in_(ids)))}
            names: dict[int, list[tuple[str, int]]] = {}
            for a in await conn.execute(
                sa.select(book_authors.c.book_id, authors.c.id, authors.c.name)
                .join(authors, authors.c.id == book_authors.c.author_id)
                .where(book_authors.c.book_id.in_(ids))
                .order_by(book_authors.c.book_id, book_authors.c.position)
            ):
                names.setdefault(a.book_id, []).append((a.name, a.id))
            genres: dict[int, list[str]] = {}
            for g in await conn.execute(
                sa.select(book_genres.c.book_id, book_genres.c.genre)
                .where(book_genres.c.book_id.in_(ids))
                .order_by(book_genres.c.book_id, book_genres.c.genre)
            ):
                genres.setdefault(g.book_id, []).append(g.genre)
        yield [
            BookDocument(
                id=r.id,
                title=r.title,
                description=r.description,
                published_year=r.published_year,
                price_cents=r.price_cents,
                genres=tuple(genres.get(r.id, ())),
                authors=tuple(name for name, _ in names.get(r.id, ())),
                author_ids=tuple(author_id for _, author_id in names.get(r.id, ())),
                in_stock=(level.available or 0) > 0,
                version=level.search_version or 0,
            )
            for level in levels
            # A book deleted between the two reads is gone: the caller treats it as such.
            if (r := found.get(level.id)) is not None
        ]
        last_id = levels[-1].id


async def unindexed_book_ids(engine: AsyncEngine, limit: int, *, after: int = 0) -> list[int]:
    """Books after `after` whose latest search version the index has not recorded, lowest id first."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.select(stock_levels.c.book_id)
            .where(
                stock_levels.c.search_version > stock_levels.c.search_applied,
                stock_levels.c.book_id > after,
            )
            .order_by(stock_levels.c.book_id)
            .limit(limit)
        )
        return list(rows.scalars())


async def book_count(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(sa.select(sa.func.count()).select_from(books))).scalar_one())


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
