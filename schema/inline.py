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

from dataclasses import dataclass
from typing import Any

from graphql import GraphQLEnumType, GraphQLField, GraphQLNonNull, GraphQLObjectType, GraphQLScalarType
from graphql.pyutils import Path, Undefined, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter

_NOT_INLINE = object()


class InlineExecutionContext(StrawberryGraphQLCoreExecutionContext):
    inlined = 0  # fields this process resolved inline (tests read it)

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        """graphql-core's `execute_fields` (3.3.2), with a leaf read inline before a field's `Path`
        and `execute_field` are made."""
        manager = self.middleware_manager  # Strawberry gives one, empty unless an extension resolves
        inline = manager is None or not manager.middlewares
        fields = parent_type.fields
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        inlined = 0
        try:
            for response_name, field_details_list in grouped_field_set.items():
                if inline:
                    node = field_details_list[0].node
                    field = fields.get(node.name.value)
                    if field is not None and not node.arguments:
                        leaf = _leaf_of(field)
                        if leaf is not None:
                            value = _inline(leaf, source_value)
                            if value is not _NOT_INLINE:
                                results[response_name] = value
                                inlined += 1
                                continue
                result = self.execute_field(
                    parent_type,
                    source_value,
                    field_details_list,
                    Path(path, response_name, parent_type.name),
                    position_context,
                )
                if result is not Undefined:
                    results[response_name] = result
                    if is_awaitable(result):
                        awaitable_fields.append(response_name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[field] for field in awaitable_fields])
            raise
        finally:
            InlineExecutionContext.inlined += inlined
        if not awaitable_fields:
            return results

        async def get_results() -> dict[str, Any]:
            if len(awaitable_fields) == 1:
                results[awaitable_fields[0]] = await results[awaitable_fields[0]]
            else:
                awaited = await gather_with_cancel(*(results[field] for field in awaitable_fields))
                results.update(zip(awaitable_fields, awaited, strict=True))
            return results

        return get_results()


@dataclass(frozen=True, slots=True)
class _Leaf:
    attribute: str  # the Python name Strawberry reads
    type: GraphQLScalarType | GraphQLEnumType


# By id: a GraphQLField compares by value and does not hash. The entry holds the field itself, so
# its id is not reused while the entry exists.
_LEAVES: dict[int, tuple[GraphQLField, _Leaf | None]] = {}


def _leaf_of(field: GraphQLField) -> _Leaf | None:
    """How to read a leaf Strawberry resolves by an attribute (no resolver, permission or extension
    of its own, and the default resolver `getattr`), else None; worked out once per field."""
    known = _LEAVES.get(id(field))
    if known is not None and known[0] is field:
        return known[1]
    leaf = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
    definition = field.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
    found = None
    if (
        definition is not None
        and getattr(field.resolve, "__name__", "") == "_get_basic_result"
        and definition.is_basic_field
        and definition.default_resolver is getattr
        and isinstance(leaf, GraphQLScalarType | GraphQLEnumType)
    ):
        found = _Leaf(definition.python_name, leaf)
    _LEAVES[id(field)] = (field, found)
    return found


def _inline(leaf: _Leaf, source: Any) -> Any:
    """The field's value read and coerced as `complete_leaf_value` would; `_NOT_INLINE` for a null
    or anything that fails, which the library's way then reports at its path."""
    try:
        result = getattr(source, leaf.attribute)
        if result is None or isinstance(result, Exception):
            return _NOT_INLINE
        coerced = leaf.type.coerce_output_value(result)
    except Exception:
        return _NOT_INLINE
    return _NOT_INLINE if coerced is None or coerced is Undefined else coerced
