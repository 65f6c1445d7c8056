"""Look-ahead: what a query selects below the current field, so a list can prefetch its children.

A resolver that returns a list of objects loads their selected relations in one batch per
relation and hands them over as plain values. The relation fields then resolve synchronously,
which is several times cheaper in graphql-core than an awaitable per item; the DataLoaders still
make it one statement per (store, level).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, TypeVar

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLIncludeDirective,
    GraphQLSkipDirective,
    InlineFragmentNode,
    SelectionNode,
)
from graphql.execution.values import get_directive_values

from context import Info

Selection = dict[str, "Selection"]  # field name → what is selected below it (aliases merged)

T = TypeVar("T")
R = TypeVar("R")

_MISSING = object()


def lookahead(info: Info) -> Selection:
    raw = info._raw_info
    tree: Selection = {}
    for node in raw.field_nodes:
        if node.selection_set:
            _merge(tree, node.selection_set.selections, raw.fragments, raw.variable_values)
    return tree


def below(selection: Selection, *path: str) -> Selection:
    for name in path:
        selection = selection.get(name, {})
    return selection


def _merge(
    tree: Selection,
    selections: Iterable[SelectionNode],
    fragments: dict[str, FragmentDefinitionNode],
    variables: Any,  # graphql-core 3.3: VariableValues; 3.2: a dict
) -> None:
    for node in selections:
        if not _included(node, variables):
            continue
        if isinstance(node, FieldNode):
            subtree = tree.setdefault(node.name.value, {})
            if node.selection_set:
                _merge(subtree, node.selection_set.selections, fragments, variables)
        elif isinstance(node, InlineFragmentNode):
            _merge(tree, node.selection_set.selections, fragments, variables)
        elif isinstance(node, FragmentSpreadNode) and node.name.value in fragments:
            _merge(tree, fragments[node.name.value].selection_set.selections, fragments, variables)


def _included(node: SelectionNode, variables: Any) -> bool:
    if not node.directives:
        return True
    skip = get_directive_values(GraphQLSkipDirective, node, variables)
    if skip and skip.get("if"):
        return False
    include = get_directive_values(GraphQLIncludeDirective, node, variables)
    return not (include and not include.get("if"))


class Prefetched:
    """Mixin for types whose relations a parent list may have loaded already.

    Each such type declares `prefetched: strawberry.Private[dict[str, Any]]` (a plain annotation
    here would not become a dataclass field).
    """

    prefetched: dict[str, Any]

    def relation(self, name: str, load: Callable[[], Awaitable[T]]) -> T | Awaitable[T]:
        """The prefetched value (or its error, raised at this field), else an awaitable load."""
        value = self.prefetched.get(name, _MISSING)
        if value is _MISSING:
            return load()
        if isinstance(value, BaseException):
            raise value
        return value  # type: ignore[no-any-return]


Owner = TypeVar("Owner", bound=Prefetched)


async def fill(
    owners: Sequence[Owner], name: str, loading: Awaitable[list[T]], convert: Callable[[Owner, T], R]
) -> list[R]:
    """Store each owner's converted value; a failed load is stored as the error of every owner,
    so only that field fails, at each item's path, as it would without prefetching."""
    try:
        values = await loading
    except Exception as exc:
        for owner in owners:
            owner.prefetched[name] = exc
        return []
    converted = [convert(owner, value) for owner, value in zip(owners, values, strict=True)]
    for owner, value in zip(owners, converted, strict=True):
        owner.prefetched[name] = value
    return converted
