"""Recommendation lists in a plan: a book's `similarBooks` and `alsoBought`, the catalog's
`trendingBooks` and the viewer's `recommendations`, picked by the same functions the resolvers call
(`recommendations.shelf`) and written straight to JSON values."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from graphql import FieldNode, GraphQLField, GraphQLSchema
from graphql.execution.values import VariableValues

from context import Context
from execution.arguments import resolver_arguments
from execution.books import BookWriter, Member, holders_at, together
from recommendations.shelf import Pick, similar_to, with_books
from schema.relay import check_first

# What a plan can write of a BookRecommendation, by the schema's Python names.
RECOMMENDATION = frozenset({"score", "strategy", "reason", "book", "__typename"})

Source = Literal["similar_books", "also_bought", "trending_books", "recommendations"]


@dataclass(frozen=True, slots=True)
class Shelf:
    """One list field: `members` of each recommendation, `writer` for their books."""

    source: Source
    schema: GraphQLSchema
    field: GraphQLField
    node: FieldNode
    members: tuple[Member, ...]
    writer: BookWriter

    async def write(
        self, context: Context, variables: VariableValues, of: int | None = None, title: str | None = None
    ) -> tuple[list[dict[str, Any]], int]:
        """The list for the book or customer `of` (a book's `title` names it in the reasons) and the
        objects written. Raises what the resolver raises (BadUserInput, SourceUnavailable)."""
        picks = await self._picks(
            context, resolver_arguments(self.schema, self.field, self.node, variables), of, title
        )
        low_stock = context.settings.low_stock_threshold
        books = (
            await self.writer.write(
                [p.row.id for p in picks], [p.row for p in picks], context.inventory, low_stock
            )
            if any(m.name == "book" for m in self.members)
            else [(None, 0)] * len(picks)
        )
        written = [self._one(pick, book) for pick, (book, _) in zip(picks, books, strict=True)]
        return written, len(picks) + sum(count for _, count in books)

    async def _picks(
        self, context: Context, arguments: dict[str, Any], of: int | None, title: str | None
    ) -> list[Pick]:
        first = check_first(arguments["first"], minimum=1)
        inventory, recommender = context.inventory, context.recommender
        if self.source == "similar_books":
            assert of is not None and title is not None
            return await similar_to(context.search, inventory, of, title, first)
        genre = None
        if self.source == "also_bought":
            assert of is not None
            listed = await recommender.also_bought(of, first, inventory)
        elif self.source == "trending_books":
            genre = arguments.get("genre")
            listed = await recommender.trending(genre, first)
        else:
            assert of is not None
            listed = await recommender.for_customer(of, arguments["strategy"], first, inventory)
        return await with_books(inventory, listed, genre)

    def _one(self, pick: Pick, book: dict[str, Any] | None) -> dict[str, Any]:
        values = {
            "score": pick.score,
            "strategy": pick.strategy.name,
            "reason": pick.reason,
            "book": book,
            "__typename": "BookRecommendation",
        }
        return {m.key: values[m.name] for m in self.members}


@dataclass(frozen=True, slots=True)
class ShelfHole:
    """The viewer's `recommendations`: the orders statement writes the customer's key at `path`, and
    `fill` puts the list there."""

    path: tuple[str, ...]
    shelf: Shelf

    async def fill(self, data: dict[str, Any], context: Context, variables: VariableValues) -> int:
        key = self.path[-1]
        holders = list(holders_at(data, self.path[:-1]))
        written = await together(*(self.shelf.write(context, variables, h[key]) for h in holders))
        for holder, (value, _) in zip(holders, written, strict=True):
            holder[key] = value
        return sum(count for _, count in written)
