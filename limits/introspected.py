"""What an introspection field returns for a schema element, read from graphql-core's own schema
objects: the cost counts the objects an introspection query returns exactly as execution would."""

from __future__ import annotations

from typing import Any

from graphql import (
    GraphQLInputObjectType,
    GraphQLSchema,
    is_abstract_type,
    is_enum_type,
    is_input_object_type,
    is_interface_type,
    is_object_type,
    is_wrapping_type,
)


def introspected(schema: GraphQLSchema, type_name: str, field_name: str, value: Any, deprecated: bool) -> Any:
    """What an introspection field returns for `value`: a schema element, a list of them, or None."""

    def current(items: Any) -> list[Any]:
        return [i for i in items if deprecated or getattr(i, "deprecation_reason", None) is None]

    if type_name == "__Schema":
        if field_name == "types":
            return list(schema.type_map.values())
        if field_name == "directives":
            return list(schema.directives)
        if field_name in ("queryType", "mutationType", "subscriptionType"):
            return getattr(schema, f"{field_name[: -len('Type')]}_type")
    elif type_name == "__Type":
        if field_name == "fields" and (is_object_type(value) or is_interface_type(value)):
            return current(value.fields.values())
        if field_name == "interfaces" and (is_object_type(value) or is_interface_type(value)):
            return list(value.interfaces)
        if field_name == "possibleTypes" and is_abstract_type(value):
            return list(schema.get_possible_types(value))
        if field_name == "enumValues" and is_enum_type(value):
            return current(value.values.values())
        if field_name == "inputFields" and is_input_object_type(value):
            assert isinstance(value, GraphQLInputObjectType)
            return current(value.fields.values())
        if field_name == "ofType" and is_wrapping_type(value):
            return value.of_type
    elif type_name in ("__Field", "__Directive"):
        if field_name == "args":
            return current(value.args.values())
        if field_name == "type":
            return value.type
    elif type_name == "__InputValue" and field_name == "type":
        return value.type
    return None
