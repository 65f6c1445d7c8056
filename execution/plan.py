"""A plan and what it answers: the orders statement with its arguments, the holes other stores fill
after it, and the catalog roots read beside it (`execution.walk` makes one, `execution.plans` keeps
and runs them). `Fallback` says why the general path answers instead."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, cast

import orjson
from graphql import FieldNode, GraphQLField
from graphql.execution.values import VariableValues, get_argument_values

from auth.viewer import Viewer
from context import Context
from datasources.base import Engine
from datasources.orders.tree import ORDERS_CURSOR_TAG, Arguments, PageArguments, TreeResult, TreeStatement
from errors import BadUserInput, BookgraphError, Forbidden, NotFound, SourceUnavailable, Unauthenticated
from execution.books import BookHole, together
from execution.catalog import BookNodes, Books, Genres, OneBook
from execution.recommended import Shelf, ShelfHole
from schema.relay import check_first, decode_cursor, pk_of

Reason = Literal["not_a_query", "unsupported", "variables", "arguments", "viewer", "not_found", "error"]

# Why a resolver's refusal sends a request to the general path, which reports it with its path.
_REFUSALS: dict[type[BookgraphError], Reason] = {
    BadUserInput: "arguments",
    NotFound: "not_found",
    Forbidden: "viewer",
    Unauthenticated: "viewer",
}


@dataclass(frozen=True, slots=True)
class Fallback:
    """The general path answers this request."""

    reason: Reason
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Answer:
    data: orjson.Fragment  # the `data` object's JSON, spliced into the response as it is
    actual_cost: int


@dataclass(frozen=True, slots=True)
class RootField:
    kind: Literal["viewer", "order"]
    field: GraphQLField
    node: FieldNode


@dataclass(frozen=True, slots=True)
class Slot:
    field: GraphQLField
    node: FieldNode


@dataclass(frozen=True, slots=True)
class Plan:
    statement: TreeStatement | None  # None: nothing from the orders store
    roots: tuple[RootField, ...]
    slots: tuple[Slot, ...]
    # (level, weight): the actual cost is the sum of weight times that level's rows (level -1: once).
    cost_terms: tuple[tuple[int, int], ...]
    # The lines' books and the viewer's recommendations, once the orders statement has run.
    holes: tuple[BookHole | ShelfHole, ...] = ()
    # The roots of other stores (the catalog, trending books), read beside the orders statement.
    catalog: tuple[tuple[str, Books | BookNodes | Genres | OneBook | Shelf], ...] = ()
    keys: tuple[str, ...] = ()  # every root's response key, in the order of the selection

    def arguments(self, viewer: Viewer, variables: VariableValues) -> Arguments | Fallback:
        order_id = None
        for root in self.roots:
            if root.kind == "viewer" and not (viewer.is_customer and viewer.subject):
                return Fallback("viewer", "no customer signed in")
            if root.kind == "order":
                if not viewer.is_authenticated:
                    return Fallback("viewer", "not signed in")
                given = get_argument_values(root.field, root.node, variables)
                try:
                    order_id = pk_of(given["id"], "Order")
                except BadUserInput:
                    return Fallback("arguments", "id")
        pages = {}
        for index, slot in enumerate(self.slots):
            given = get_argument_values(slot.field, slot.node, variables)
            try:
                first = check_first(given["first"])
                after = decode_cursor(given.get("after"), ORDERS_CURSOR_TAG)
            except BadUserInput:
                return Fallback("arguments", "first/after")
            if after is not None and not isinstance(after[0], datetime):
                return Fallback("arguments", "after")
            statuses = given.get("status")
            pages[index] = PageArguments(
                first,
                after,
                tuple(sorted(str(getattr(s, "value", s)) for s in statuses))
                if statuses is not None
                else None,
            )
        return Arguments(
            subject=viewer.subject,
            admin=viewer.is_admin,
            order_id=order_id,
            pages=pages,
        )

    async def run(self, engine: Engine, context: Context, variables: VariableValues) -> Answer | Fallback:
        try:
            return await self._run(engine, context, variables)
        except SourceUnavailable:
            raise
        except BookgraphError as refused:  # the general path says which, with its path
            return Fallback(_REFUSALS.get(type(refused), "error"), refused.message)

    async def _run(self, engine: Engine, context: Context, variables: VariableValues) -> Answer | Fallback:
        arguments = self.arguments(context.viewer, variables)
        if isinstance(arguments, Fallback):
            return arguments
        if not self.catalog:  # the orders statement alone: no tasks to start
            assert self.statement is not None
            results: list[Any] = [await self.statement.run(engine, arguments)]
        else:
            results = await together(
                self.statement.run(engine, arguments) if self.statement else _none(),
                *(root.write(context, variables) for _, root in self.catalog),
            )
        result = cast(TreeResult | None, results[0])
        written = cast(list[tuple[Any, int]], results[1:])
        if result is not None and not all(result.found):
            # A customer seen for the first time (the general path creates it), or an order that
            # is not there or not theirs (the general path says NOT_FOUND, with its path).
            return Fallback("not_found")
        rows = result.rows if result is not None else ()
        cost = sum(weight * (rows[level] if level >= 0 else 1) for level, weight in self.cost_terms)
        if result is not None and not self.holes and not self.catalog:
            return Answer(orjson.Fragment(result.data), cost)
        ordered = orjson.loads(result.data) if result is not None else {}
        for (key, _), (value, objects) in zip(self.catalog, written, strict=True):
            ordered[key] = value
            cost += objects
        data = {key: ordered[key] for key in self.keys}
        # Together, so that the request's loaders batch the books of every place at once.
        filled = await together(*(hole.fill(data, context, variables) for hole in self.holes))
        return Answer(orjson.Fragment(orjson.dumps(data)), cost + sum(filled))


async def _none() -> None:
    return None
