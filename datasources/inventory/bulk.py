"""Bulk reads and writes of the inventory: imports and the demo catalog, and the documents the
search index is built from."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from catalog.records import BookRecord
from datasources.base import WRITE_CHUNK, Progress, batched, no_progress, upsert
from datasources.inventory.tables import authors, book_authors, book_genres, books, stock_levels


async def write_books(
    engine: AsyncEngine, records: Iterable[BookRecord], progress: Progress = no_progress
) -> dict[str, tuple[int, int]]:
    """Insert or update books by ISBN; returns isbn → (book id, price in cents)."""
    written: dict[str, tuple[int, int]] = {}
    for chunk in batched(records, WRITE_CHUNK):
        async with engine.begin() as conn:
            written.update(await _write_book_chunk(conn, chunk))
        progress(len(chunk))
    async with engine.begin() as conn:
        # Fresh statistics let the planner pick the selective index after a large load.
        await conn.execute(sa.text("PRAGMA optimize" if conn.dialect.name == "sqlite" else "ANALYZE"))
    return written


async def _write_book_chunk(conn: AsyncConnection, chunk: Sequence[BookRecord]) -> dict[str, tuple[int, int]]:
    names = sorted({name for r in chunk for name in r.authors})
    await conn.execute(upsert(conn, authors).on_conflict_do_nothing(), [{"name": n} for n in names])
    author_ids = dict(
        (await conn.execute(sa.select(authors.c.name, authors.c.id).where(authors.c.name.in_(names)))).all()
    )

    insert = upsert(conn, books)
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

    stock = upsert(conn, stock_levels)
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


async def index_coverage(engine: AsyncEngine) -> tuple[int, int]:
    """(books in the catalog, books the search index has held a version of): a book never indexed
    still has `search_applied` 0."""
    indexed = sa.func.sum(sa.case((stock_levels.c.search_applied > 0, 1), else_=0))
    async with engine.connect() as conn:
        row = (await conn.execute(sa.select(sa.func.count(), sa.func.coalesce(indexed, 0)))).one()
        return int(row[0]), int(row[1])


async def book_count(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(sa.select(sa.func.count()).select_from(books))).scalar_one())


async def genres_of_books(engine: AsyncEngine) -> dict[int, tuple[str, ...]]:
    """Every book's genres (the offline evaluation's, where a loader per book would be 5,000 keys)."""
    genres: dict[int, list[str]] = {}
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.select(book_genres.c.book_id, book_genres.c.genre).order_by(
                book_genres.c.book_id, book_genres.c.genre
            )
        )
        for row in rows:
            genres.setdefault(row.book_id, []).append(row.genre)
    return {book: tuple(of) for book, of in genres.items()}
