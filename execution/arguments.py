"""A field's arguments as its resolver receives them: coerced by graphql-core, then converted by
Strawberry (input objects, enums), so that a plan checks exactly what the resolver checks."""

from __future__ import annotations

from typing import Any

from graphql import FieldNode, GraphQLField, GraphQLSchema
from graphql.execution.values import VariableValues, get_argument_values
from strawberry.types.arguments import convert_arguments
from strawberry.types.field import StrawberryField

_DEFINITION = "strawberry-definition"


def resolver_arguments(
    schema: GraphQLSchema, field: GraphQLField, node: FieldNode, variables: VariableValues
) -> dict[str, Any]:
    definition: StrawberryField = field.extensions[_DEFINITION]
    strawberry = schema.extensions[_DEFINITION]
    given = get_argument_values(field, node, variables)
    return convert_arguments(
        given, definition.arguments, scalar_registry=strawberry.schema_converter.scalar_registry,
        config=strawberry.config,
    )  # fmt: skip
