"""The calculated cost of an operation, Shopify-style: from the document, the schema and the variables.

The cost counts the objects a response can hold, plus extra weight for the fields that cost more
than a key lookup:

- A field of a scalar or enum type costs 0 (plus its extra weight, if it has one).
- An object (interface, union) costs 1 plus its fields. A field returning one costs its extra
  weight plus that object's cost; a field returning a list costs its extra weight plus the list's
  size times the cost of one item.
- A list's size is its `first` (`last`) argument, from the literal, the variables or the
  argument's default in the schema; else the length of its `ids` argument (`nodes(ids: [...])`);
  else `CostWeights.default_list_size`. A Relay connection (a type named `...Connection` with
  `edges` or `nodes`) is sized by the `first` of the field returning it: its `edges`/`nodes` lists
  take that size, while `pageInfo` and `totalCount` are not multiplied.
- For an interface or union, the cost is the greatest over its possible types (each with the
  fragments that apply to it).
- Fields are merged by response key and `@skip`/`@include` are applied, as execution does, so a
  fragment costs what its fields inlined cost. Fragments in a cycle add nothing.
- Introspection (`__schema`, `__type`) is costed exactly against the schema: the objects it would
  return, counted like any other objects (the standard introspection query of this schema costs
  what its response holds).

`actual_cost` walks a response's `data` with the same rules: objects that came back cost 1 each,
lists cost by their real length, and the extra weight of every expensive field that is present.
So `actual_cost <= requested_cost` unless a list without a size argument came back longer than
`default_list_size`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLIncludeDirective,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLSkipDirective,
    GraphQLType,
    GraphQLWrappingType,
    InlineFragmentNode,
    NamedTypeNode,
    OperationDefinitionNode,
    SchemaMetaFieldDef,
    SelectionNode,
    SelectionSetNode,
    TypeMetaFieldDef,
    TypeNameMetaFieldDef,
    get_argument_values,
    get_directive_values,
    get_named_type,
    get_operation_ast,
    get_variable_values,
    is_abstract_type,
    is_leaf_type,
)
from graphql.execution.values import VariableValues

from limits.introspected import introspected
from limits.rules import QUERY_TOO_COMPLEX

__all__ = ["CostWeights", "actual_cost", "requested_cost"]


@dataclass(frozen=True, slots=True)
class CostWeights:
    """What fields and lists cost. `field_costs` holds extra weights by `Type.field` (the schema
    declares them on its fields: `schema.relations.field_costs`)."""

    field_costs: Mapping[str, int] = field(default_factory=dict)
    mutation_field_cost: int = 10  # extra weight of every Mutation field not in `field_costs`
    default_list_size: int = 10  # a list without a size argument
    size_arguments: tuple[str, ...] = ("first", "last")
    id_list_arguments: tuple[str, ...] = ("ids",)
    connection_suffix: str = "Connection"
    connection_list_fields: tuple[str, ...] = ("edges", "nodes")

    def extra(self, schema: GraphQLSchema, parent: GraphQLObjectType, field_name: str) -> int:
        extra = self.field_costs.get(f"{parent.name}.{field_name}")
        if extra is not None:
            return extra
        return self.mutation_field_cost if parent is schema.mutation_type else 0

    def is_connection(self, type_: GraphQLType) -> bool:
        return (
            isinstance(type_, GraphQLObjectType | GraphQLInterfaceType)
            and type_.name.endswith(self.connection_suffix)
            and any(name in type_.fields for name in self.connection_list_fields)
        )


def requested_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    variables: dict[str, Any] | None,
    operation_name: str | None,
    weights: CostWeights | None = None,
) -> int:
    """The most the operation can cost; 0 when the document has no such operation.

    Meant for documents within the depth limit: the walk recurses once per level of nesting, and
    raises a GraphQLError (QUERY_TOO_COMPLEX) for a document nested beyond Python's recursion limit."""
    estimate = _Estimate.of(schema, document, variables, operation_name, weights)
    if estimate is None:
        return 0
    root, operation = estimate.root
    try:
        return estimate.fields_cost(root, (operation.selection_set,), None)
    except RecursionError:
        pass  # raised outside the handler, so that the error does not keep the frames alive
    raise GraphQLError(
        "The query is nested too deeply to compute its cost.",
        operation,
        extensions={"code": QUERY_TOO_COMPLEX},
    )


def actual_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    variables: dict[str, Any] | None,
    operation_name: str | None,
    data: dict[str, Any] | None,
    weights: CostWeights | None = None,
) -> int:
    """What the operation cost, from the `data` it returned (0 for no data)."""
    estimate = _Estimate.of(schema, document, variables, operation_name, weights)
    if estimate is None or not isinstance(data, dict):
        return 0
    root, operation = estimate.root
    return estimate.actual_fields(root, (operation.selection_set,), data)


_SelectionSets = tuple[SelectionSetNode, ...]
_Fields = dict[str, list[FieldNode]]
# An object's fields as the actual cost reads them: (key, extra weight) for those with one, and
# (key, named type, sub-selections) for those holding objects.
_Shape = tuple[tuple[tuple[str, int], ...], tuple[tuple[str, GraphQLNamedType, _SelectionSets], ...]]


class _Estimate:
    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        root: GraphQLObjectType,
        variables: VariableValues,
        weights: CostWeights,
    ) -> None:
        self.schema = schema
        self.root = root, operation
        self.variables = variables
        self.weights = weights
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.cyclic = _cyclic_fragments(self.fragments)
        self.collected: dict[tuple[str, tuple[int, ...]], _Fields] = {}
        self.object_costs: dict[tuple[str, tuple[int, ...], int | None], int] = {}
        self.introspection_costs: dict[tuple[str, int, tuple[int, ...]], int] = {}
        self.shapes: dict[tuple[str, tuple[int, ...]], _Shape] = {}
        self.possible_by_name: dict[str, Sequence[GraphQLObjectType]] = {}

    @classmethod
    def of(
        cls,
        schema: GraphQLSchema,
        document: DocumentNode,
        variables: dict[str, Any] | None,
        operation_name: str | None,
        weights: CostWeights | None,
    ) -> _Estimate | None:
        operation = get_operation_ast(document, operation_name)
        if operation is None:
            return None
        root = schema.get_root_type(operation.operation)
        if root is None:
            return None
        coerced = get_variable_values(schema, operation.variable_definitions or (), variables or {})
        if isinstance(coerced, list):  # execution refuses these variables: arguments get defaults
            coerced = VariableValues(sources={}, coerced={})
        return cls(schema, document, operation, root, coerced, weights or CostWeights())

    # -- Collecting fields as execution does ------------------------------------------------------

    def collect(self, type_: GraphQLObjectType, selection_sets: _SelectionSets) -> _Fields:
        """The fields of one object by response key, in document order (as execution collects them)."""
        key = (type_.name, tuple(map(id, selection_sets)))
        fields = self.collected.get(key)
        if fields is not None:
            return fields
        fields = self.collected[key] = {}
        visited: set[str] = set()  # each fragment once per object, as in execution
        # Iterative: a chain of fragments may be longer than Python's recursion limit.
        stack: list[Iterator[SelectionNode]] = [iter(s.selections) for s in reversed(selection_sets)]
        while stack:
            selection = next(stack[-1], None)
            if selection is None:
                stack.pop()
            elif not self._included(selection):
                continue
            elif isinstance(selection, FieldNode):
                fields.setdefault((selection.alias or selection.name).value, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                if self._applies(selection.type_condition, type_):
                    stack.append(iter(selection.selection_set.selections))
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in visited or name in self.cyclic:
                    continue
                visited.add(name)
                if self._applies(fragment.type_condition, type_):
                    stack.append(iter(fragment.selection_set.selections))
        return fields

    def _included(self, node: Any) -> bool:
        try:
            skip = get_directive_values(GraphQLSkipDirective, node, self.variables)
            include = get_directive_values(GraphQLIncludeDirective, node, self.variables)
        except GraphQLError:
            return True  # refused at execution; count it
        return not (skip and skip.get("if") is True) and not (include and include.get("if") is False)

    def _applies(self, condition: NamedTypeNode | None, type_: GraphQLObjectType) -> bool:
        if condition is None:
            return True
        conditional = self.schema.get_type(condition.name.value)
        if conditional is type_:
            return True
        return is_abstract_type(conditional) and self.schema.is_sub_type(conditional, type_)

    def field_def(self, parent: GraphQLObjectType, name: str) -> GraphQLField | None:
        if name == "__typename":
            return TypeNameMetaFieldDef
        if parent is self.schema.query_type and name in ("__schema", "__type"):
            return SchemaMetaFieldDef if name == "__schema" else TypeMetaFieldDef
        field_def: GraphQLField | None = parent.fields.get(name)
        return field_def

    def arguments(self, field_def: GraphQLField, node: FieldNode) -> dict[str, Any]:
        try:
            return get_argument_values(field_def, node, self.variables)
        except GraphQLError:  # execution fails this field before resolving it
            return {}

    def possible_types(self, type_: GraphQLType) -> Sequence[GraphQLObjectType]:
        if is_abstract_type(type_):
            return self.schema.get_possible_types(type_)
        return [type_] if isinstance(type_, GraphQLObjectType) else []

    def list_size(self, field_def: GraphQLField, node: FieldNode) -> int:
        arguments = self.arguments(field_def, node)
        for name in self.weights.size_arguments:
            value = arguments.get(name)
            if isinstance(value, int) and not isinstance(value, bool):
                return max(value, 0)
        for name in self.weights.id_list_arguments:
            value = arguments.get(name)
            if isinstance(value, list):
                return len(value)
        return self.weights.default_list_size

    # -- Requested cost ---------------------------------------------------------------------------

    def fields_cost(self, type_: GraphQLObjectType, selection_sets: _SelectionSets, size: int | None) -> int:
        """The fields of one object; `size` is the connection's size when `type_` is a connection."""
        return sum(
            self.field_cost(type_, nodes, size) for nodes in self.collect(type_, selection_sets).values()
        )

    def object_cost(self, type_: GraphQLObjectType, selection_sets: _SelectionSets, size: int | None) -> int:
        key = (type_.name, tuple(map(id, selection_sets)), size)
        cost = self.object_costs.get(key)
        if cost is None:
            cost = self.object_costs[key] = 1 + self.fields_cost(type_, selection_sets, size)
        return cost

    def field_cost(
        self, parent: GraphQLObjectType, nodes: list[FieldNode], connection_size: int | None
    ) -> int:
        node = nodes[0]
        name = node.name.value
        field_def = self.field_def(parent, name)
        if field_def is None:
            return 0  # an unknown field: validation refuses it
        extra = self.weights.extra(self.schema, parent, name)
        named = get_named_type(field_def.type)
        if named is None or is_leaf_type(named):
            return extra
        selection_sets = _sub_selections(nodes)
        if name in ("__schema", "__type") and parent is self.schema.query_type:
            value = self.schema if name == "__schema" else self._named_type(field_def, node)
            if value is None:
                return extra
            return extra + self.introspection_cost(named.name, value, selection_sets)
        # A connection's lists take the connection's size; any other list its own.
        own_size = self.list_size(field_def, node)
        size = (
            connection_size
            if connection_size is not None and name in self.weights.connection_list_fields
            else own_size
        )
        items = _list_items(field_def.type, size, self.weights.default_list_size)
        child_size = own_size if self.weights.is_connection(named) else None
        one = max(
            (self.object_cost(t, selection_sets, child_size) for t in self.possible_types(named)), default=0
        )
        return extra + items * one

    def _named_type(self, field_def: GraphQLField, node: FieldNode) -> GraphQLType | None:
        type_name = self.arguments(field_def, node).get("name")
        return self.schema.get_type(type_name) if isinstance(type_name, str) else None

    def introspection_cost(self, type_name: str, value: Any, selection_sets: _SelectionSets) -> int:
        """Exactly the objects the introspection of `value` (typed `type_name`) returns."""
        key = (type_name, id(value), tuple(map(id, selection_sets)))
        cost = self.introspection_costs.get(key)
        if cost is not None:
            return cost
        type_ = self.schema.get_type(type_name)
        if not isinstance(type_, GraphQLObjectType):
            return 0
        self.introspection_costs[key] = 0  # a guard; introspection values nest, they do not cycle
        cost = 1
        for nodes in self.collect(type_, selection_sets).values():
            node = nodes[0]
            name = node.name.value
            field_def = self.field_def(type_, name)
            if field_def is None:
                continue
            cost += self.weights.extra(self.schema, type_, name)
            named = get_named_type(field_def.type)
            if named is None or is_leaf_type(named):
                continue
            include_deprecated = self.arguments(field_def, node).get("includeDeprecated") is True
            children = introspected(self.schema, type_name, name, value, include_deprecated)
            sub = _sub_selections(nodes)
            if isinstance(children, list):
                cost += sum(self.introspection_cost(named.name, child, sub) for child in children)
            elif children is not None:
                cost += self.introspection_cost(named.name, children, sub)
        self.introspection_costs[key] = cost
        return cost

    # -- Actual cost ------------------------------------------------------------------------------

    def actual_fields(
        self, type_: GraphQLObjectType, selection_sets: _SelectionSets, data: dict[str, Any]
    ) -> int:
        extras, children = self.shape(type_, selection_sets)
        cost = 0
        for key, extra in extras:
            if key in data:
                cost += extra
        for key, named, sub in children:
            value = data.get(key)
            if value is not None:
                cost += self.actual_value(named, sub, value)
        return cost

    def actual_value(self, type_: GraphQLNamedType, selection_sets: _SelectionSets, value: Any) -> int:
        if isinstance(value, list):
            cost = 0
            for item in value:
                if item is not None:
                    cost += self.actual_value(type_, selection_sets, item)
            return cost
        if not isinstance(value, dict):
            return 0
        candidates = self.possible(type_)
        if len(candidates) == 1:
            return 1 + self.actual_fields(candidates[0], selection_sets, value)
        typename = self._typename(candidates, selection_sets, value)
        if typename is not None:
            return 1 + self.actual_fields(typename, selection_sets, value)
        return max((1 + self.actual_fields(t, selection_sets, value) for t in candidates), default=0)

    def shape(self, type_: GraphQLObjectType, selection_sets: _SelectionSets) -> _Shape:
        """What counts in a returned object of `type_`, worked out once per selection: the response
        keys with an extra weight, and those holding objects (with their type and sub-selections)."""
        key = (type_.name, tuple(map(id, selection_sets)))
        shape = self.shapes.get(key)
        if shape is not None:
            return shape
        extras: list[tuple[str, int]] = []
        children: list[tuple[str, GraphQLNamedType, _SelectionSets]] = []
        for response_key, nodes in self.collect(type_, selection_sets).items():
            name = nodes[0].name.value
            field_def = self.field_def(type_, name)
            if field_def is None:
                continue
            extra = self.weights.extra(self.schema, type_, name)
            if extra:
                extras.append((response_key, extra))
            named = get_named_type(field_def.type)
            if named is not None and not is_leaf_type(named):
                children.append((response_key, named, _sub_selections(nodes)))
        shape = self.shapes[key] = (tuple(extras), tuple(children))
        return shape

    def possible(self, type_: GraphQLNamedType) -> Sequence[GraphQLObjectType]:
        """possible_types, once per type: the actual cost asks it for every object returned."""
        found = self.possible_by_name.get(type_.name)
        if found is None:
            found = self.possible_by_name[type_.name] = self.possible_types(type_)
        return found

    def _typename(
        self, candidates: Sequence[GraphQLObjectType], selection_sets: _SelectionSets, value: dict[str, Any]
    ) -> GraphQLObjectType | None:
        for candidate in candidates:
            for key, nodes in self.collect(candidate, selection_sets).items():
                if nodes[0].name.value == "__typename" and value.get(key) == candidate.name:
                    return candidate
        return None


def _sub_selections(nodes: list[FieldNode]) -> _SelectionSets:
    return tuple(node.selection_set for node in nodes if node.selection_set is not None)


def _list_items(type_: GraphQLType, size: int, default_size: int) -> int:
    """How many items a field of this type holds: `size` for the outer list, the default for inner ones."""
    items, sized = 1, False
    current = type_
    while isinstance(current, GraphQLWrappingType):
        if isinstance(current, GraphQLList):
            items *= default_size if sized else size
            sized = True
        current = current.of_type
    return items


def _cyclic_fragments(fragments: Mapping[str, FragmentDefinitionNode]) -> frozenset[str]:
    """The fragments that spread themselves, directly or through others (NoFragmentCycles refuses
    these; the cost leaves them out so that its walk ends)."""
    spreads = {name: _spreads(fragment.selection_set) for name, fragment in fragments.items()}
    cyclic: set[str] = set()
    for start in spreads:
        seen: set[str] = set()
        stack = list(spreads[start])
        while stack:
            name = stack.pop()
            if name == start:
                cyclic.add(start)
                break
            if name not in seen and name in spreads:
                seen.add(name)
                stack.extend(spreads[name])
    return frozenset(cyclic)


def _spreads(selection_set: SelectionSetNode) -> set[str]:
    names: set[str] = set()
    stack = [selection_set]
    while stack:
        for selection in stack.pop().selections:
            if isinstance(selection, FragmentSpreadNode):
                names.add(selection.name.value)
            elif isinstance(selection, FieldNode | InlineFragmentNode) and selection.selection_set:
                stack.append(selection.selection_set)
    return names
