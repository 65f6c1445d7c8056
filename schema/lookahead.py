"""Look-ahead: what a query selects below the current field (aliases merged, `@skip`/`@include`
applied), so a resolver can load its children's relations at once (`schema.relations`)."""

from __future__ import annotations

from collections.abc import Iterable

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLIncludeDirective,
    GraphQLSkipDirective,
    InlineFragmentNode,
    SelectionNode,
)
from graphql.execution.values import VariableValues, get_directive_values

from context import Info

Selection = dict[str, "Selection"]  # field name → what is selected below it (aliases merged)


def lookahead(info: Info) -> Selection:
    raw = info._raw_info
    variables = raw.variable_values
    if isinstance(variables, dict):  # Strawberry hands resolvers the coerced values as a plain dict
        variables = VariableValues(sources={}, coerced=variables)
    tree: Selection = {}
    for node in raw.field_nodes:
        if node.selection_set:
            _merge(tree, node.selection_set.selections, raw.fragments, variables)
    return tree


def below(selection: Selection, *path: str) -> Selection:
    for name in path:
        selection = selection.get(name, {})
    return selection


def _merge(
    tree: Selection,
    selections: Iterable[SelectionNode],
    fragments: dict[str, FragmentDefinitionNode],
    variables: VariableValues,
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


def _included(node: SelectionNode, variables: VariableValues) -> bool:
    if not node.directives:
        return True
    skip = get_directive_values(GraphQLSkipDirective, node, variables)
    if skip and skip.get("if"):
        return False
    include = get_directive_values(GraphQLIncludeDirective, node, variables)
    return not (include and not include.get("if"))
