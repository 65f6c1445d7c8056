"""Field execution that reads plain attributes inline.

Most of a response is scalars and enums read straight off their parent (ids, titles, amounts,
statuses). graphql-core spends on each of them what it spends on any field: the resolve info,
Strawberry's resolver wrapper, the awaitable checks, the completion dispatch. For a field that only
reads an attribute and returns a leaf, `InlineExecutionContext` reads and serialises the value
itself. Everything else — a resolver, permissions, field extensions, arguments, an object or a
list, a null, an error — goes the reference way (`super().execute_field`), which gives answers and
errors their exact shape; `EXECUTION=reference` runs every field that way (tests/schema/
test_execution.py holds the two to the same answers).

Relies on graphql-core 3.3's `Executor.execute_field` and Strawberry's basic-field resolver, the
versions pyproject.toml pins.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLLeafType, GraphQLNonNull, GraphQLObjectType, is_leaf_type
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.field import StrawberryField

# Strawberry's resolver for a field without resolver, permissions, extensions or error handlers.
_BASIC_RESOLVER = "_get_basic_result"

_plain: dict[tuple[str, str], tuple[str, GraphQLLeafType] | None] = {}


class InlineExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: Any,
        path: Any,
        position_context: Any,
    ) -> Any:
        node = field_details_list[0].node
        plain = plain_leaf(parent_type, node.name.value)
        if plain is not None and not node.arguments and self.middleware_manager is None:
            attribute, leaf = plain
            try:
                value = getattr(source, attribute)
                if value is not None and not isinstance(value, Exception) and not self.is_awaitable(value):
                    return self.complete_leaf_value(leaf, value)
            except Exception:
                pass
        return super().execute_field(parent_type, source, field_details_list, path, position_context)


def plain_leaf(parent_type: GraphQLObjectType, field_name: str) -> tuple[str, GraphQLLeafType] | None:
    """(attribute, leaf type) when the field only reads that attribute and returns a scalar or an
    enum; None for every other field. Worked out once per field."""
    key = (parent_type.name, field_name)
    if key in _plain:
        return _plain[key]
    found = _plain[key] = _plain_leaf(parent_type, field_name)
    return found


def _plain_leaf(parent_type: GraphQLObjectType, field_name: str) -> tuple[str, GraphQLLeafType] | None:
    field_def = parent_type.fields.get(field_name)
    if field_def is None or field_def.args:
        return None
    definition = (field_def.extensions or {}).get("strawberry-definition")
    if not isinstance(definition, StrawberryField) or not definition.is_basic_field:
        return None
    if getattr(field_def.resolve, "__name__", None) != _BASIC_RESOLVER:
        return None
    if definition.default_resolver is not getattr or definition.python_name is None:
        return None
    type_ = field_def.type
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    if not is_leaf_type(type_):
        return None
    return definition.python_name, type_
