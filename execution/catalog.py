"""The catalog's roots in a plan: `books` (a page, filtered and ordered) and `genres`, read through
the request's inventory source as the resolvers read them, and written straight to JSON values."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import FieldNode, GraphQLField
from graphql.execution.values import VariableValues, get_argument_values
from strawberry.types.arguments import convert_arguments
from strawberry.types.field import StrawberryField

from context import Context
from execution.books import BookWriter, Member
from resolvers.books import book_page
from schema.relay import encode_cursor

# What a plan can write of a page of books and of a genre, by the schema's Python names.
CONNECTION = frozenset({"edges", "page_info", "total_count", "__typename"})
EDGE = frozenset({"cursor", "node", "__typename"})
PAGE_INFO = frozenset({"has_next_page", "has_previous_page", "start_cursor", "end_cursor", "__typename"})
GENRE = frozenset({"name", "book_count", "__typename"})


@dataclass(frozen=True, slots=True)
class Books:
    """`books(first, after, filter, orderBy)`: `members` of the connection, `edge` and `page_info`
    the members of those (empty when not selected), `writer` for the nodes."""

    field: GraphQLField
    node: FieldNode
    members: tuple[Member, ...]
    edge: tuple[Member, ...]
    page_info: tuple[Member, ...]
    writer: BookWriter
    typenames: dict[str, str]  # connection, edge, page info
    strawberry: Any  # the Strawberry schema, whose converter turns arguments into what resolvers get

    async def write(self, context: Context, variables: VariableValues) -> tuple[dict[str, Any], int]:
        """The connection's value and the objects in it. Raises BadUserInput (arguments the
        resolver refuses) for the general path to report."""
        definition: StrawberryField = self.field.extensions["strawberry-definition"]
        given = get_argument_values(self.field, self.node, variables)
        arguments = convert_arguments(
            given, definition.arguments, scalar_registry=self.strawberry.schema_converter.scalar_registry,
            config=self.strawberry.config,
        )  # fmt: skip
        inventory = context.inventory
        conditions, page, tag = await book_page(
            inventory, arguments["first"], arguments.get("after"), arguments.get("filter"),
            arguments.get("order_by"),
        )  # fmt: skip
        ids = [row.id for row in page.items]
        books = (
            await self.writer.write(ids, page.items, inventory, context.settings.low_stock_threshold)
            if any(m.name == "node" for m in self.edge)
            else [(None, 0)] * len(ids)
        )
        cursors = [encode_cursor(tag, key) for key in page.keys]
        objects = 1
        value: dict[str, Any] = {}
        for member in self.members:
            if member.name == "__typename":
                value[member.key] = self.typenames["connection"]
            elif member.name == "total_count":
                value[member.key] = await inventory.count_books(conditions)
            elif member.name == "edges":
                value[member.key] = [
                    self._edge(cursor, book) for cursor, (book, _) in zip(cursors, books, strict=True)
                ]
                objects += len(ids) + sum(count for _, count in books)
            elif member.name == "page_info":
                info = {
                    "has_next_page": page.has_next,
                    "has_previous_page": page.has_previous,
                    "start_cursor": cursors[0] if cursors else None,
                    "end_cursor": cursors[-1] if cursors else None,
                    "__typename": self.typenames["page_info"],
                }
                value[member.key] = {m.key: info[m.name] for m in self.page_info}
                objects += 1
        return value, objects

    def _edge(self, cursor: str, book: dict[str, Any] | None) -> dict[str, Any]:
        values = {"cursor": cursor, "node": book, "__typename": self.typenames["edge"]}
        return {m.key: values[m.name] for m in self.edge}


@dataclass(frozen=True, slots=True)
class Genres:
    members: tuple[Member, ...]

    async def write(self, context: Context) -> tuple[list[dict[str, Any]], int]:
        genres = await context.inventory.list_genres()
        written = []
        for name, count in genres:
            values = {"name": name, "book_count": count, "__typename": "Genre"}
            written.append({m.key: values[m.name] for m in self.members})
        return written, len(written)
