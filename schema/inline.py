"""The general path's executor, with plain attribute fields resolved inline.

For every field, graphql-core builds a `GraphQLResolveInfo`, calls the resolver and completes the
value through `complete_value`, and Strawberry's resolver for a field with no resolver of its own
(`_get_basic_result`) then only reads an attribute. On a page of books or orders most fields are
such leaves (`title`, `quantity`, `amount`): here one is read and coerced inline, as
`complete_leaf_value` would, and everything else (a resolver, a list, an object, a null, an error,
middleware) goes the library's way. What the client sees is the same; the plans
(`execution/plans.py`) serve known operations, this serves the partners' one-off queries.

It leans on two libraries' internals, so both are pinned (pyproject.toml): graphql-core's
`Executor.execute_field` signature, and Strawberry marking the resolvers of basic fields with
`_get_basic_result` and linking each GraphQL field to its `StrawberryField`.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLEnumType, GraphQLField, GraphQLNonNull, GraphQLObjectType, GraphQLScalarType
from graphql.pyutils import Undefined
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter

_NOT_INLINE = object()


class InlineExecutionContext(StrawberryGraphQLCoreExecutionContext):
    inlined = 0  # fields this process resolved inline (tests read it)

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: Any,
        path: Any,
        position_context: Any,
    ) -> Any:
        node = field_details_list[0].node
        manager = self.middleware_manager  # Strawberry gives one, empty unless an extension resolves
        if (manager is None or not manager.middlewares) and not node.arguments:
            field = parent_type.fields.get(node.name.value)
            leaf = _leaf_of(field) if field is not None else None
            if field is not None and leaf is not None:
                value = _inline(field, leaf, source)
                if value is not _NOT_INLINE:
                    InlineExecutionContext.inlined += 1
                    return value
        return super().execute_field(parent_type, source, field_details_list, path, position_context)


# By id: a GraphQLField compares by value and does not hash. The entry holds the field itself, so
# its id is not reused while the entry exists.
_LEAVES: dict[int, tuple[GraphQLField, GraphQLScalarType | GraphQLEnumType | None]] = {}


def _leaf_of(field: GraphQLField) -> GraphQLScalarType | GraphQLEnumType | None:
    """The leaf type of a field Strawberry resolves by reading an attribute (no resolver,
    permission or extension of its own), else None; once per field."""
    known = _LEAVES.get(id(field))
    if known is not None and known[0] is field:
        return known[1]
    leaf = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
    definition = field.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
    basic = (
        getattr(field.resolve, "__name__", "") == "_get_basic_result"
        and definition is not None
        and definition.is_basic_field
    )
    found = leaf if basic and isinstance(leaf, GraphQLScalarType | GraphQLEnumType) else None
    _LEAVES[id(field)] = (field, found)
    return found


def _inline(field: GraphQLField, leaf: GraphQLScalarType | GraphQLEnumType, source: Any) -> Any:
    """The field's value read and coerced as `complete_leaf_value` would; `_NOT_INLINE` for a null
    or anything that fails, which the library's way then reports at its path."""
    try:
        result = field.resolve(source, None)  # type: ignore[misc]  # `_get_basic_result` reads no info
        if result is None or result is Undefined or isinstance(result, Exception):
            return _NOT_INLINE
        coerced = leaf.coerce_output_value(result)
    except Exception:
        return _NOT_INLINE
    return _NOT_INLINE if coerced is None or coerced is Undefined else coerced
