"""Books, authors, genres and stock, read through per-request DataLoaders."""

from __future__ import annotations

from dataclasses import replace
from functools import cached_property
from typing import Any

import sqlalchemy as sa
from aiodataloader import DataLoader

from datasources.base import StoreSource, grouped, in_key_order, loader
from datasources.filters import EVERY_BOOK, BookFilter
from datasources.inventory.rows import STORE, AuthorRow, BookRow, BookSort, StockRow
from datasources.inventory.tables import authors, book_authors, book_genres, books, stock_levels
from datasources.pages import Page, SortKey, page_of
from datasources.paging import after_key, ordering, partitioned

_SORT_COLUMNS = {
    BookSort.TITLE: books.c.title,
    BookSort.PRICE: books.c.price_cents,
    BookSort.PUBLISHED_YEAR: books.c.published_year,
}
_GENRE_SORT_COLUMNS = {
    BookSort.TITLE: book_genres.c.title,
    BookSort.PRICE: book_genres.c.price_cents,
    BookSort.PUBLISHED_YEAR: book_genres.c.published_year,
}


def where(filter: BookFilter, *, genres: bool = True) -> list[sa.ColumnElement[bool]]:
    """The filter's conditions on `books` (the genres too, unless the caller joins them itself)."""
    f = filter
    clauses: list[sa.ColumnElement[bool]] = []
    if genres and f.genres is not None:
        clauses.append(
            sa.exists().where(book_genres.c.book_id == books.c.id, book_genres.c.genre.in_(f.genres))
        )
    if f.author_ids is not None:
        # An author has few books: start from them rather than scan the catalog in sort order.
        by_authors = sa.select(book_authors.c.book_id).where(book_authors.c.author_id.in_(f.author_ids))
        clauses.append(books.c.id.in_(by_authors))
    if f.min_price_cents is not None:
        clauses.append(books.c.price_cents >= f.min_price_cents)
    if f.max_price_cents is not None:
        clauses.append(books.c.price_cents <= f.max_price_cents)
    if f.min_year is not None:
        clauses.append(books.c.published_year >= f.min_year)
    if f.max_year is not None:
        clauses.append(books.c.published_year <= f.max_year)
    if f.title_contains:
        clauses.append(books.c.title.icontains(f.title_contains, autoescape=True))
    if f.in_stock is not None:
        available = sa.exists().where(
            stock_levels.c.book_id == books.c.id,
            stock_levels.c.on_hand - stock_levels.c.reserved > 0,
        )
        clauses.append(available if f.in_stock else ~available)
    return clauses


def _book(row: Any) -> BookRow:
    return BookRow(
        id=row.id,
        isbn=row.isbn,
        title=row.title,
        description=row.description,
        published_year=row.published_year,
        price_cents=row.price_cents,
        currency=row.currency,
    )


_BOOK_COLUMNS = (
    books.c.id,
    books.c.isbn,
    books.c.title,
    books.c.description,
    books.c.published_year,
    books.c.price_cents,
    books.c.currency,
)

AuthorBooksKey = tuple[int, int, SortKey | None]  # (author id, first, after)

# The loaders' statements, built once: a batch binds its keys to `keys` (expanding), so SQLAlchemy
# neither builds nor coerces a statement per batch, and its compiled form is cached once per size.
_KEYS: sa.BindParameter[Any] = sa.bindparam("keys", expanding=True)
_BOOKS_BY_ID = sa.select(*_BOOK_COLUMNS).where(books.c.id.in_(_KEYS))
_BOOKS_BY_ISBN = sa.select(*_BOOK_COLUMNS).where(books.c.isbn.in_(_KEYS))
_AUTHORS_BY_ID = sa.select(authors.c.id, authors.c.name).where(authors.c.id.in_(_KEYS))
_AUTHORS_BY_BOOK_ID = (
    sa.select(book_authors.c.book_id, authors.c.id, authors.c.name)
    .join(authors, authors.c.id == book_authors.c.author_id)
    .where(book_authors.c.book_id.in_(_KEYS))
    .order_by(book_authors.c.book_id, book_authors.c.position, authors.c.id)
)
_GENRES_BY_BOOK_ID = (
    sa.select(book_genres.c.book_id, book_genres.c.genre)
    .where(book_genres.c.book_id.in_(_KEYS))
    .order_by(book_genres.c.book_id, book_genres.c.genre)
)
_STOCK_BY_BOOK_ID = sa.select(stock_levels.c.book_id, stock_levels.c.on_hand, stock_levels.c.reserved).where(
    stock_levels.c.book_id.in_(_KEYS)
)
_BOOK_COUNT_BY_AUTHOR_ID = (
    sa.select(book_authors.c.author_id, sa.func.count().label("n"))
    .where(book_authors.c.author_id.in_(_KEYS))
    .group_by(book_authors.c.author_id)
)


class InventorySource(StoreSource):
    """One per request: its loaders cache and batch for that request only."""

    store = STORE

    # Loaders are created on first use, so a request pays only for the ones it needs.

    @cached_property
    def books_by_id(self) -> DataLoader[int, BookRow | None]:
        async def batch(ids: list[int]) -> list[BookRow | None]:
            rows = await self._lookup(_BOOKS_BY_ID, {"keys": ids})
            return in_key_order(ids, {r.id: _book(r) for r in rows})

        return loader("books_by_id", STORE, batch, via=self.engine)

    @cached_property
    def books_by_isbn(self) -> DataLoader[str, BookRow | None]:
        async def batch(isbns: list[str]) -> list[BookRow | None]:
            rows = await self._lookup(_BOOKS_BY_ISBN, {"keys": isbns})
            found = {r.isbn: _book(r) for r in rows}
            for book in found.values():
                self.books_by_id.prime(book.id, book)
            return in_key_order(isbns, found)

        return loader("books_by_isbn", STORE, batch, via=self.engine)

    @cached_property
    def authors_by_id(self) -> DataLoader[int, AuthorRow | None]:
        async def batch(ids: list[int]) -> list[AuthorRow | None]:
            rows = await self._lookup(_AUTHORS_BY_ID, {"keys": ids})
            return in_key_order(ids, {r.id: AuthorRow(r.id, r.name) for r in rows})

        return loader("authors_by_id", STORE, batch, via=self.engine)

    @cached_property
    def authors_by_book_id(self) -> DataLoader[int, list[AuthorRow]]:
        async def batch(book_ids: list[int]) -> list[list[AuthorRow]]:
            rows = await self._lookup(_AUTHORS_BY_BOOK_ID, {"keys": book_ids})
            by_book = grouped(book_ids, rows, lambda r: r.book_id)
            return [[AuthorRow(r.id, r.name) for r in group] for group in by_book]

        return loader("authors_by_book_id", STORE, batch, via=self.engine)

    @cached_property
    def genres_by_book_id(self) -> DataLoader[int, list[str]]:
        async def batch(book_ids: list[int]) -> list[list[str]]:
            rows = await self._lookup(_GENRES_BY_BOOK_ID, {"keys": book_ids})
            return [[r.genre for r in group] for group in grouped(book_ids, rows, lambda r: r.book_id)]

        return loader("genres_by_book_id", STORE, batch, via=self.engine)

    @cached_property
    def stock_by_book_id(self) -> DataLoader[int, StockRow]:
        async def batch(book_ids: list[int]) -> list[StockRow]:
            rows = await self._lookup(_STOCK_BY_BOOK_ID, {"keys": book_ids})
            found = {r.book_id: StockRow(r.book_id, r.on_hand, r.reserved) for r in rows}
            # A book with no stock row has never been stocked: zero, not unknown.
            return [found.get(b) or StockRow(b, 0, 0) for b in book_ids]

        return loader("stock_by_book_id", STORE, batch, via=self.engine)

    @cached_property
    def books_by_author_id(self) -> DataLoader[AuthorBooksKey, Page[BookRow]]:
        """Pages of each author's books by title; keys sharing (first, after) share a statement."""

        async def batch(keys: list[AuthorBooksKey]) -> list[Page[BookRow]]:
            pages: dict[AuthorBooksKey, Page[BookRow]] = {}
            by_args: dict[tuple[int, SortKey | None], list[int]] = {}
            for author_id, first, after in keys:
                by_args.setdefault((first, after), []).append(author_id)
            for (first, after), author_ids in by_args.items():
                query = (
                    sa.select(*_BOOK_COLUMNS, book_authors.c.author_id)
                    .join(book_authors, book_authors.c.book_id == books.c.id)
                    .where(
                        book_authors.c.author_id.in_(author_ids),
                        after_key(books.c.title, books.c.id, after, False),
                    )
                )
                rows = await self._rows(
                    partitioned(query, book_authors.c.author_id, books.c.title, books.c.id, first, False)
                )
                for author_id, group in zip(
                    author_ids, grouped(author_ids, rows, lambda r: r.author_id), strict=True
                ):
                    pages[(author_id, first, after)] = page_of(
                        [_book(r) for r in group], [(r.title, r.id) for r in group], first, after
                    )
            return [pages[k] for k in keys]

        return loader("books_by_author_id", STORE, batch, via=self.engine)

    @cached_property
    def book_count_by_author_id(self) -> DataLoader[int, int]:
        async def batch(author_ids: list[int]) -> list[int]:
            rows = await self._lookup(_BOOK_COUNT_BY_AUTHOR_ID, {"keys": author_ids})
            counts: dict[int, int] = {r.author_id: r.n for r in rows}
            return [counts.get(a, 0) for a in author_ids]

        return loader("book_count_by_author_id", STORE, batch, via=self.engine)

    async def list_books(
        self, filter: BookFilter, order: BookSort, descending: bool, first: int, after: SortKey | None
    ) -> Page[BookRow]:
        sort = _SORT_COLUMNS[order]
        genre = filter.single_genre
        if genre is not None:
            # One genre: walk its (genre, sort key, id) index range in order.
            genre_sort = _GENRE_SORT_COLUMNS[order]
            statement = (
                sa.select(*_BOOK_COLUMNS)
                .select_from(book_genres.join(books, books.c.id == book_genres.c.book_id))
                .where(
                    book_genres.c.genre == genre,
                    *where(filter, genres=False),
                    after_key(genre_sort, book_genres.c.book_id, after, descending),
                )
                .order_by(*ordering(genre_sort, book_genres.c.book_id, descending))
            )
        else:
            statement = (
                sa.select(*_BOOK_COLUMNS)
                .where(*where(filter), after_key(sort, books.c.id, after, descending))
                .order_by(*ordering(sort, books.c.id, descending))
            )
        statement = statement.limit(first + 1)
        # Only genres and stock constrain it: the page walks an index in its own order and stops
        # after `first` books in stock, within one genre's books at worst (the catalog's only when
        # hardly anything is in stock), so it runs as a lookup does (`_lookup`); a title, an author,
        # a price or a year range may scan the catalog for few matches, on the driver's thread.
        walks = replace(filter, genres=None, in_stock=None) == EVERY_BOOK
        rows = await (self._lookup(statement, {}) if walks else self._rows(statement))
        items = [_book(r) for r in rows]
        for book in items[:first]:
            self.books_by_id.prime(book.id, book)
        keys = [(getattr(r, sort.name), r.id) for r in rows]
        return page_of(items, keys, first, after)

    async def count_books(self, filter: BookFilter) -> int:
        rows = await self._rows(
            sa.select(sa.func.count().label("n")).select_from(books).where(*where(filter))
        )
        return int(rows[0].n)

    async def list_genres(self) -> list[tuple[str, int]]:
        rows = await self._rows(
            sa.select(book_genres.c.genre, sa.func.count().label("n"))
            .group_by(book_genres.c.genre)
            .order_by(book_genres.c.genre)
        )
        return [(r.genre, r.n) for r in rows]
