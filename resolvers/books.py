"""Catalog queries."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from catalog.importer import normalise_isbn
from context import Info
from datasources.filters import EVERY_BOOK, BookFilter
from datasources.inventory.rows import BookRow
from datasources.inventory.source import InventorySource
from datasources.pages import Page
from errors import BadUserInput, NotFound
from schema.books import Author, Book, BookFilterInput, BookOrder, Genre, OrderDirection
from schema.money import to_cents
from schema.relations import load_relations
from schema.relay import Connection, check_first, decode_cursor, pk_of

MAX_PRICE = Decimal(1_000_000)


async def book(info: Info, id: strawberry.ID | None = None, isbn: str | None = None) -> Book | None:
    return Book.from_row(await find_book(info.context.inventory, id, isbn))


async def find_book(inventory: InventorySource, id: str | None, isbn: str | None) -> BookRow:
    """The book by exactly one of its global ID or its ISBN; compiled plans find it here too."""
    if (id is None) == (isbn is None):
        raise BadUserInput("Give exactly one of `id` or `isbn`.")
    if id is not None:
        row = await inventory.books_by_id.load(pk_of(id, "Book"))
    else:
        # Hyphens, spaces and ISBN-10 are accepted: books are stored under their ISBN-13 digits.
        compact = "".join(c for c in isbn or "" if c.isalnum())
        row = await inventory.books_by_isbn.load(normalise_isbn(compact) or compact)
    if row is None:
        raise NotFound("No book has this ID." if id is not None else "No book has this ISBN.")
    return row


async def books(
    info: Info,
    first: int = 20,
    after: str | None = None,
    filter: BookFilterInput | None = None,
    order_by: BookOrder | None = None,
) -> Connection[Book]:
    inventory = info.context.inventory
    conditions, page, tag = await book_page(inventory, first, after, filter, order_by)

    async def count() -> int:
        return await inventory.count_books(conditions)

    connection = Connection.of(page, tag, Book.from_row, count)
    await load_relations(info, connection)
    return connection


async def book_page(
    inventory: InventorySource,
    first: int,
    after: str | None,
    filter: BookFilterInput | None,
    order_by: BookOrder | None,
) -> tuple[BookFilter, Page[BookRow], str]:
    """The catalog page the arguments ask for: its filter, its rows and its cursors' tag (a cursor
    of another ordering is refused). Compiled plans read the catalog through this too."""
    conditions = book_filter(filter)
    order = order_by or BookOrder()
    descending = order.direction is OrderDirection.DESC
    tag = f"books:{order.field}:{'desc' if descending else 'asc'}"
    page = await inventory.list_books(
        conditions, order.field, descending, check_first(first), decode_cursor(after, tag)
    )
    return conditions, page, tag


async def author(info: Info, id: strawberry.ID) -> Author | None:
    row = await info.context.inventory.authors_by_id.load(pk_of(id, "Author"))
    if row is None:
        raise NotFound("No author has this ID.")
    return Author.from_row(row)


async def genres(info: Info) -> list[Genre]:
    return [Genre(name=name, book_count=count) for name, count in await info.context.inventory.list_genres()]


def book_filter(filter: BookFilterInput | None) -> BookFilter:
    """Validate the schema's filter into the stores' one; contradictions are the client's error."""
    if filter is None:
        return EVERY_BOOK
    price, years = filter.price_range, filter.published_year_range
    if price is not None:
        for bound in (price.min, price.max):
            # is_finite first: comparing NaN with a number raises rather than answers.
            if bound is not None and (not bound.is_finite() or not 0 <= bound <= MAX_PRICE):
                raise BadUserInput(
                    f"Prices in `priceRange` must be between 0 and {MAX_PRICE}.", argument="filter"
                )
        if price.min is not None and price.max is not None and price.min > price.max:
            raise BadUserInput("`priceRange.min` is above `priceRange.max`.", argument="filter")
    if years is not None and years.min is not None and years.max is not None and years.min > years.max:
        raise BadUserInput("`publishedYearRange.min` is above `publishedYearRange.max`.", argument="filter")
    return BookFilter(
        genres=tuple(filter.genres) if filter.genres is not None else None,
        author_ids=tuple(pk_of(a, "Author") for a in filter.author_ids)
        if filter.author_ids is not None
        else None,
        min_price_cents=to_cents(price.min) if price and price.min is not None else None,
        max_price_cents=to_cents(price.max) if price and price.max is not None else None,
        in_stock=filter.in_stock,
        min_year=years.min if years else None,
        max_year=years.max if years else None,
        title_contains=filter.title_contains.strip() or None if filter.title_contains else None,
    )
