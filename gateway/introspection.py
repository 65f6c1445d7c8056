"""Introspection for the clients that should have it: partners exploring the API, administrators,
and everyone on a development machine. The others get no schema and no "Did you mean …" hints."""

from __future__ import annotations

from functools import lru_cache

from graphql import FieldNode, FragmentDefinitionNode, GraphQLError, OperationDefinitionNode, parse, visit
from graphql.language import Visitor

# `_service { sdl }` is the whole schema too (Apollo Federation's): for the same roles, which is
# what a router's credential should be.
INTROSPECTION_FIELDS = frozenset({"__schema", "__type", "_service"})


def uses_introspection(query: str) -> bool:
    # Most queries never name either field: no parse needed to say so.
    if (
        "__schema" not in query
        and "_service" not in query
        and "__type" not in query.replace("__typename", "")
    ):
        return False
    return _introspects(query)


@lru_cache(maxsize=256)
def _introspects(query: str) -> bool:
    try:
        document = parse(query)
    except GraphQLError:
        return False  # the parser reports it
    found = False

    class Finder(Visitor):
        def enter_field(self, node: FieldNode, *_: object) -> None:
            nonlocal found
            found = found or node.name.value in INTROSPECTION_FIELDS

    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode | FragmentDefinitionNode):
            visit(definition, Finder())
    return found
