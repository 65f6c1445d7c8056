"""The catalog's roots in a plan: `books` (a page, filtered and ordered) and `genres`, read through
the request's inventory source as the resolvers read them, and written straight to JSON values."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import FieldNode, GraphQLField, GraphQLSchema
from graphql.execution.values import VariableValues

from context import Context
from errors import NotFound
from execution.arguments import resolver_arguments
from execution.books import BookWriter, Member, together
from execution.recommended import Shelf
from resolvers.books import book_page, find_book
from resolvers.node import check_ids
from resolvers.search import search_page
from schema.relay import encode_cursor, pk_of

# What a plan can write of a page of books and of a genre, by the schema's Python names.
CONNECTION = frozenset({"edges", "page_info", "total_count", "__typename"})
EDGE = frozenset({"cursor", "node", "__typename"})
SEARCH_CONNECTION = CONNECTION - {"total_count"}
SEARCH_EDGE = EDGE | {"score"}
PAGE_INFO = frozenset({"has_next_page", "has_previous_page", "start_cursor", "end_cursor", "__typename"})
GENRE = frozenset({"name", "book_count", "__typename"})


@dataclass(frozen=True, slots=True)
class Books:
    """`books(first, after, filter, orderBy)`, or `searchBooks(query, first, after, filter)` when
    `search`: `members` of the connection, `edge` and `page_info` the members of those (empty when
    not selected), `writer` for the nodes."""

    field: GraphQLField
    node: FieldNode
    members: tuple[Member, ...]
    edge: tuple[Member, ...]
    page_info: tuple[Member, ...]
    writer: BookWriter
    typenames: dict[str, str]  # connection, edge, page info
    schema: GraphQLSchema
    search: bool = False

    async def write(self, context: Context, variables: VariableValues) -> tuple[dict[str, Any], int]:
        """The connection's value and the objects in it. Raises what the resolver raises
        (BadUserInput for arguments it refuses, SourceUnavailable) for the general path to report."""
        arguments = resolver_arguments(self.schema, self.field, self.node, variables)
        inventory = context.inventory
        first, after, given = arguments["first"], arguments.get("after"), arguments.get("filter")
        scores: list[float] = []
        conditions = None  # the filter `totalCount` counts by (a search connection has none)
        if self.search:
            found = await search_page(context, arguments["query"], first, after, given)
            cursors = [cursor for cursor, _, _ in found.hits]
            rows = [row for _, row, _ in found.hits]
            scores = [score for _, _, score in found.hits]
            has_next, has_previous = found.has_next, found.has_previous
        else:
            conditions, page, tag = await book_page(inventory, first, after, given, arguments.get("order_by"))
            cursors = [encode_cursor(tag, key) for key in page.keys]
            rows, has_next, has_previous = list(page.items), page.has_next, page.has_previous
        books = (
            await self.writer.write(
                [row.id for row in rows], rows, inventory, context.settings.low_stock_threshold
            )
            if any(m.name == "node" for m in self.edge)
            else [(None, 0)] * len(rows)
        )
        objects = 1
        value: dict[str, Any] = {}
        for member in self.members:
            if member.name == "__typename":
                value[member.key] = self.typenames["connection"]
            elif member.name == "total_count":
                assert conditions is not None  # the planner lets `totalCount` through for `books` only
                value[member.key] = await inventory.count_books(conditions)
            elif member.name == "edges":
                value[member.key] = [
                    self._edge(cursor, book, score)
                    for cursor, (book, _), score in zip(cursors, books, scores or cursors, strict=True)
                ]
                objects += len(rows) + sum(count for _, count in books)
            elif member.name == "page_info":
                info = {
                    "has_next_page": has_next,
                    "has_previous_page": has_previous,
                    "start_cursor": cursors[0] if cursors else None,
                    "end_cursor": cursors[-1] if cursors else None,
                    "__typename": self.typenames["page_info"],
                }
                value[member.key] = {m.key: info[m.name] for m in self.page_info}
                objects += 1
        return value, objects

    def _edge(self, cursor: str, book: dict[str, Any] | None, score: Any) -> dict[str, Any]:
        values = {"cursor": cursor, "node": book, "score": score, "__typename": self.typenames["edge"]}
        return {m.key: values[m.name] for m in self.edge}


@dataclass(frozen=True, slots=True)
class BookNodes:
    """`nodes(ids:)` when every ID names a Book: the books in the IDs' order, in one batch."""

    schema: GraphQLSchema
    field: GraphQLField
    node: FieldNode
    writer: BookWriter

    async def write(self, context: Context, variables: VariableValues) -> tuple[list[Any], int]:
        """Raises BadUserInput for too many IDs and NotFound for a book that is not there: the
        general path answers those, with each missing one null beside its own error."""
        ids = resolver_arguments(self.schema, self.field, self.node, variables)["ids"]
        check_ids(ids)
        keys = [pk_of(i, "Book") for i in ids]
        books = await self.writer.write(keys, None, context.inventory, context.settings.low_stock_threshold)
        if any(book is None for book, _ in books):
            raise NotFound("a book is not there")
        return [book for book, _ in books], sum(count for _, count in books)


@dataclass(frozen=True, slots=True)
class Genres:
    members: tuple[Member, ...]

    async def write(self, context: Context, variables: VariableValues) -> tuple[list[dict[str, Any]], int]:
        genres = await context.inventory.list_genres()
        written = []
        for name, count in genres:
            values = {"name": name, "book_count": count, "__typename": "Genre"}
            written.append({m.key: values[m.name] for m in self.members})
        return written, len(written)


@dataclass(frozen=True, slots=True)
class OneBook:
    """`book(id | isbn)`: `members` in the selection's order, written by `writer` but for the
    recommendation lists (`shelves`, by response key); `weight` is the lists' own cost."""

    schema: GraphQLSchema
    field: GraphQLField
    node: FieldNode
    members: tuple[Member, ...]
    writer: BookWriter
    shelves: tuple[tuple[str, Shelf], ...]
    weight: int

    async def write(self, context: Context, variables: VariableValues) -> tuple[dict[str, Any], int]:
        """Raises what the resolver raises: BadUserInput, NotFound (for the general path to report)."""
        arguments = resolver_arguments(self.schema, self.field, self.node, variables)
        row = await find_book(context.inventory, arguments.get("id"), arguments.get("isbn"))
        low_stock = context.settings.low_stock_threshold
        results: list[Any] = await together(
            self.writer.write([row.id], [row], context.inventory, low_stock),
            *(shelf.write(context, variables, row.id, row.title) for _, shelf in self.shelves),
        )
        [(book, objects)], lists = results[0], results[1:]
        assert book is not None  # the row is given
        for (key, _), (value, count) in zip(self.shelves, lists, strict=True):
            book[key] = value
            objects += count
        return {m.key: book[m.key] for m in self.members}, objects + self.weight
