"""Limits checked before an operation executes: tokens, depth, aliases, directives and cost.

    document = parse_limited(source, limits.max_tokens)  # or limits.parse(source)
    errors = check(schema._schema, document, variables, operation_name, limits)

Every error carries `extensions.code == "QUERY_TOO_COMPLEX"`. The defaults let the standard
introspection query (`graphql.get_introspection_query(descriptions=True)`) through: it is 15 fields
deep (its TypeRef fragment nests `ofType` nine times), has 163 tokens, no aliases and no directives.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graphql import DocumentNode, GraphQLError, GraphQLSchema, ValidationRule, get_operation_ast, validate

from limits.cost import CostWeights, actual_cost, requested_cost
from limits.rules import (
    QUERY_TOO_COMPLEX,
    max_aliases_rule,
    max_depth_rule,
    max_directives_rule,
    parse_limited,
)

__all__ = [
    "MAX_REPORTED_COST",
    "QUERY_TOO_COMPLEX",
    "CostWeights",
    "Limits",
    "actual_cost",
    "check_cost",
    "check_shape",
    "max_aliases_rule",
    "max_depth_rule",
    "max_directives_rule",
    "parse_limited",
    "requested_cost",
]


MAX_REPORTED_COST = 2**53 - 1


@dataclass(frozen=True, slots=True)
class Limits:
    max_depth: int = 15
    max_aliases: int = 30
    max_directives: int = 5  # on one field, fragment spread, inline fragment or definition
    max_tokens: int = 2000  # for parse_limited (comments have their own limit of as many)
    max_cost: int = 1000
    weights: CostWeights = field(default_factory=CostWeights)

    def rules(self) -> list[type[ValidationRule]]:
        return [
            max_depth_rule(self.max_depth),
            max_aliases_rule(self.max_aliases),
            max_directives_rule(self.max_directives),
        ]

    def parse(self, source: str) -> DocumentNode:
        return parse_limited(source, self.max_tokens)


def check_shape(schema: GraphQLSchema, document: DocumentNode, limits: Limits) -> list[GraphQLError]:
    """Depth, aliases and directives: they depend on the document only, so callers may cache this."""
    return [_coded(error) for error in validate(schema, document, rules=limits.rules())]


def check_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    variables: dict[str, Any] | None,
    operation_name: str | None,
    limits: Limits,
) -> list[GraphQLError]:
    cost = requested_cost(schema, document, variables, operation_name, limits.weights)
    if cost <= limits.max_cost:
        return []
    operation = get_operation_ast(document, operation_name)
    # A `first` of 2**70 prices past what JSON numbers carry exactly; past that it is just "too much".
    cost = min(cost, MAX_REPORTED_COST)
    return [
        GraphQLError(
            f"The query would cost {cost}, more than the maximum of {limits.max_cost}:"
            " ask for fewer items (`first`) or fewer nested lists.",
            operation,
            extensions={
                "code": QUERY_TOO_COMPLEX,
                "requestedQueryCost": cost,
                "maximumCost": limits.max_cost,
            },
        )
    ]


def _coded(error: GraphQLError) -> GraphQLError:
    """graphql-core's own abort (fragments nested beyond its limit, too many errors) as too complex."""
    if error.extensions and "code" in error.extensions:
        return error
    return GraphQLError(
        error.message,
        error.nodes,
        error.source,
        error.positions,
        error.path,
        extensions={**(error.extensions or {}), "code": QUERY_TOO_COMPLEX},
    )
