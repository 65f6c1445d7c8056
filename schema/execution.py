"""Field execution that reads plain attributes inline.

Most of a response is read straight off its parent: ids, titles, amounts, statuses, a Money, an
edge's node, prefetched relations. graphql-core spends on each such field what it spends on any:
the resolve info, Strawberry's resolver wrapper, the awaitable checks. For a field that only reads
an attribute, `InlineExecutionContext` reads it and completes it itself (objects of concrete types
need no resolve info). Everything else — a resolver, permissions, field extensions, arguments, an
interface or a union, a null, an error — goes the reference way (`super().execute_field`), which
gives answers and errors their exact shape; `EXECUTION=reference` runs every field that way (tests/schema/
test_execution.py holds the two to the same answers).

Relies on graphql-core 3.3's `Executor.execute_field` and Strawberry's basic-field resolver, the
versions pyproject.toml pins.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

from graphql import (
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    is_abstract_type,
    is_leaf_type,
)
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.field import StrawberryField

from schema.relations import PREFETCH_MISSING, Relation, declared_relation, prefetched_value

# Strawberry's resolver for a field without resolver, permissions, extensions or error handlers.
_BASIC_RESOLVER = "_get_basic_result"


@dataclass(frozen=True, slots=True)
class Plain:
    """A field that only reads `attribute`, or a declared relation's prefetched value: a leaf
    (`leaf` is its type), an object of a concrete type, or a list of either (no interface or union:
    those need the resolve info to pick a type)."""

    attribute: str | None  # None: a relation, read from what its parent list prefetched
    leaf: GraphQLLeafType | None
    is_list: bool
    relation: Relation[Any, Any] | None = None


_plain: dict[tuple[str, str], Plain | None] = {}
NO_INFO: Any = None  # what completing objects of concrete types reads of the resolve info


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
        plain = plain_field(parent_type, node.name.value)
        if plain is None or node.arguments or self.middleware_manager is not None:
            return super().execute_field(parent_type, source, field_details_list, path, position_context)
        if plain.relation is not None:
            value = prefetched_value(source, plain.relation)
            if value is PREFETCH_MISSING:
                return super().execute_field(parent_type, source, field_details_list, path, position_context)
        else:
            try:
                value = getattr(source, plain.attribute)  # type: ignore[arg-type]  # set for attributes
            except Exception:  # the reference path raises it again, where it is shaped
                value = None
        # A null (is it allowed?), an error or an awaitable: the reference path knows what they mean.
        if value is None or isinstance(value, Exception) or self.is_awaitable(value):
            return super().execute_field(parent_type, source, field_details_list, path, position_context)
        if plain.leaf is not None:
            try:
                return self.complete_leaf_value(plain.leaf, value)
            except Exception:
                return super().execute_field(parent_type, source, field_details_list, path, position_context)
        if plain.is_list and (not isinstance(value, list) or None in value):
            return super().execute_field(parent_type, source, field_details_list, path, position_context)
        # Objects: completed as graphql-core does, with no resolve info (concrete types ask none);
        # their own fields run through execute_field, each shaping its own errors.
        return_type = parent_type.fields[node.name.value].type
        try:
            completed = self.complete_value(
                return_type, field_details_list, NO_INFO, path, value, position_context
            )
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, field_details_list, path)
            return None
        if self.is_awaitable(completed):
            return self._completing(completed, return_type, field_details_list, path)
        return completed

    async def _completing(
        self, completed: Awaitable[Any], return_type: GraphQLOutputType, field_details_list: Any, path: Any
    ) -> Any:
        try:
            return await completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, field_details_list, path)
            return None


def plain_field(parent_type: GraphQLObjectType, field_name: str) -> Plain | None:
    """How to read the field inline, or None for every field that is not only an attribute.
    Worked out once per field."""
    key = (parent_type.name, field_name)
    if key in _plain:
        return _plain[key]
    found = _plain[key] = _plain_field(parent_type, field_name)
    return found


def _plain_field(parent_type: GraphQLObjectType, field_name: str) -> Plain | None:
    field_def = parent_type.fields.get(field_name)
    if field_def is None or field_def.args:
        return None
    definition = (field_def.extensions or {}).get("strawberry-definition")
    if not isinstance(definition, StrawberryField):
        return None
    relation = declared_relation(definition)
    attribute = None if relation is not None else definition.python_name
    if relation is not None and (definition.permission_classes or definition.extensions):
        return None
    if relation is None and not _reads_an_attribute(definition, field_def.resolve):
        return None
    type_ = field_def.type
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    if is_leaf_type(type_):
        return Plain(attribute, type_, is_list=False, relation=relation)
    is_list = isinstance(type_, GraphQLList)
    if is_list:
        type_ = type_.of_type
        if isinstance(type_, GraphQLNonNull):
            type_ = type_.of_type
    if is_leaf_type(type_) or (isinstance(type_, GraphQLObjectType) and not is_abstract_type(type_)):
        return Plain(attribute, None, is_list, relation)
    return None


def _reads_an_attribute(definition: StrawberryField, resolve: Any) -> bool:
    return (
        definition.is_basic_field
        and getattr(resolve, "__name__", None) == _BASIC_RESOLVER
        and definition.default_resolver is getattr
        and definition.python_name is not None
    )
