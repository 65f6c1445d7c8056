"""The books a plan's orders subtree points at: one batch per relation from the inventory store, and
each book written as the general path writes it.

The orders statement leaves a line's `book` as the book's key; `fill` replaces every key with the
book's object (null when the book has left the catalog), loading the books, their authors, genres
and stock through the request's own loaders (one statement each, as the general path batches them).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from graphql.execution.values import VariableValues

from context import Context
from datasources.inventory.rows import AuthorRow, BookRow, StockRow
from datasources.inventory.source import InventorySource
from schema.books import Stock
from schema.money import Money
from schema.relay import to_global_id

T = TypeVar("T")

# Book members a plan can write, by the schema's Python names; `price`, `authors` and `stock` hold
# objects whose members are listed below.
BOOK_SCALARS = frozenset({"id", "isbn", "title", "description", "published_year"})
MEMBERS = {
    "price": frozenset({"amount", "currency", "__typename"}),
    "authors": frozenset({"id", "name", "__typename"}),
    "stock": frozenset({"on_hand", "reserved", "available", "status", "__typename"}),
}
_TYPENAMES = {"book": "Book", "price": "Money", "authors": "Author", "stock": "Stock"}


@dataclass(frozen=True, slots=True)
class Member:
    key: str
    name: str  # the schema's Python name, or __typename
    members: tuple[Member, ...] = ()


@dataclass(frozen=True, slots=True)
class BookWriter:
    """Writes books as a selection asks for them, loading only the relations it names."""

    members: tuple[Member, ...]

    async def write(
        self,
        ids: list[int],
        rows: Sequence[BookRow | None] | None,
        inventory: InventorySource,
        low_stock: int,
    ) -> list[tuple[dict[str, Any] | None, int]]:
        """Each book (None: it has left the catalog) and the objects written for it; `rows` when the
        caller has them already (a page), else they are loaded by `ids`."""
        names = frozenset(m.name for m in self.members)
        loads: list[Any] = [_given(rows) if rows is not None else inventory.books_by_id.load_many(ids)]
        for relation, loader in (
            ("authors", inventory.authors_by_book_id),
            ("genres", inventory.genres_by_book_id),
            ("stock", inventory.stock_by_book_id),
        ):
            loads.append(loader.load_many(ids) if relation in names else _given([None] * len(ids)))
        found, authors, genres, stock = await asyncio.gather(*loads)
        return [
            self._book(row, its_authors, its_genres, its_stock, low_stock)
            for row, its_authors, its_genres, its_stock in zip(found, authors, genres, stock, strict=True)
        ]

    def _book(
        self,
        row: BookRow | None,
        authors: list[AuthorRow] | None,
        genres: list[str] | None,
        stock: StockRow | None,
        low_stock: int,
    ) -> tuple[dict[str, Any] | None, int]:
        if row is None:  # the book has left the catalog: null, as the schema says
            return None, 0
        book: dict[str, Any] = {}
        objects = 1
        for member in self.members:
            name = member.name
            if name == "__typename":
                book[member.key] = "Book"
            elif name == "id":
                book[member.key] = to_global_id("Book", row.id)
            elif name in BOOK_SCALARS:
                book[member.key] = getattr(row, name)
            elif name == "genres":
                book[member.key] = list(genres or [])
            elif name == "price":
                money = Money.of(row.price_cents, row.currency)
                book[member.key] = _object(member, {"amount": str(money.amount), "currency": money.currency})
                objects += 1
            elif name == "authors":
                book[member.key] = [
                    _object(member, {"id": to_global_id("Author", author.id), "name": author.name})
                    for author in authors or []
                ]
                objects += len(book[member.key])
            elif name == "stock":
                assert stock is not None  # every book has a stock row (the loader makes one if not)
                level = Stock.from_row(stock, low_stock)
                values = {
                    "on_hand": level.on_hand,
                    "reserved": level.reserved,
                    "available": level.available,
                    "status": level.status.name,
                }
                book[member.key] = _object(member, values)
                objects += 1
        return book, objects


@dataclass(frozen=True, slots=True)
class BookHole:
    """Where books go in `data` (the response keys from it, through lists) and what each shows."""

    path: tuple[str, ...]
    writer: BookWriter

    async def fill(self, data: dict[str, Any], context: Context, variables: VariableValues) -> int:
        """Puts the books in place; returns the objects it wrote (the cost counts them)."""
        holders = list(holders_at(data, self.path[:-1]))
        key = self.path[-1]
        ids = list(dict.fromkeys(h[key] for h in holders))
        low_stock = context.settings.low_stock_threshold
        written = dict(
            zip(ids, await self.writer.write(ids, None, context.inventory, low_stock), strict=True)
        )
        objects = 0
        for holder in holders:
            book, count = written[holder[key]]
            holder[key] = book
            objects += count
        return objects


def _object(member: Member, values: dict[str, Any]) -> dict[str, Any]:
    typename = _TYPENAMES[member.name]
    return {m.key: typename if m.name == "__typename" else values[m.name] for m in member.members}


def holders_at(value: Any, path: tuple[str, ...]) -> Iterator[dict[str, Any]]:
    """The objects at `path` below `value`, through lists, skipping nulls."""
    if isinstance(value, list):
        for item in value:
            yield from holders_at(item, path)
    elif isinstance(value, dict):
        if not path:
            yield value
        else:
            yield from holders_at(value.get(path[0]), path[1:])


async def together(*calls: Awaitable[T]) -> list[T]:
    """Every call's result, run concurrently (so that the request's loaders batch across them); the
    first failure is raised once all have finished, so none is left running on the request."""
    results = await asyncio.gather(*calls, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results  # type: ignore[return-value]


async def _given(values: Sequence[Any]) -> Sequence[Any]:
    return values
