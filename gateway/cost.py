"""The query cost, before execution and after: refuse what is too complex, charge the client's
budget for what it asks, refund what it did not get, and tell it (`extensions.cost`, as Shopify
does) so a partner can pace itself."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson
from graphql import DocumentNode, GraphQLError, GraphQLSchema

from auth.viewer import Viewer
from datasources.redis.budgets import CostBudgets, Throttle
from gateway.inputs import check_literals
from limits import Limits, actual_cost, check_cost, check_shape, requested_cost
from limits.rules import QUERY_TOO_COMPLEX

# Prices remembered by (document, variables, operation), oldest out first; variables larger than
# this are priced every time rather than kept.
PRICES = 4096
MAX_PRICED_VARIABLES_BYTES = 1024


@dataclass(frozen=True, slots=True)
class Priced:
    document: DocumentNode | None  # None: not parsable; the executor reports why
    requested: int = 0
    errors: tuple[GraphQLError, ...] = ()


class QueryCost:
    def __init__(
        self, schema: GraphQLSchema, limits: Limits, budgets: CostBudgets, *, max_string_length: int = 10_000
    ) -> None:
        self.schema = schema
        self.limits = limits
        self.budgets = budgets
        self.max_string_length = max_string_length
        # Sized like the executor's document caches: a repeated query is parsed and checked for
        # depth, aliases and directives once; only its cost depends on the variables.
        self._parse = lru_cache(maxsize=1024)(self._parse_and_check)
        self._prices: dict[tuple[str, bytes, str | None], Priced] = {}

    def _parse_and_check(self, text: str) -> tuple[DocumentNode, tuple[GraphQLError, ...]] | GraphQLError:
        try:
            document = self.limits.parse(text)
        except GraphQLError as error:
            return error
        literal = check_literals(document, self.max_string_length)
        if literal is not None:
            return document, (literal,)
        return document, tuple(check_shape(self.schema, document, self.limits))

    def document(self, text: str) -> DocumentNode | None:
        """The parsed document (cached), or None if `text` does not parse."""
        parsed = self._parse(text)
        return None if isinstance(parsed, GraphQLError) else parsed[0]

    def price(self, text: str, variables: dict[str, Any] | None, operation_name: str | None) -> Priced:
        # The price depends on nothing else, and clients repeat the same operation with the same
        # few variables (a page size, an ID): priced once per combination, within bounds.
        try:
            given = orjson.dumps(variables, option=orjson.OPT_SORT_KEYS) if variables else b""
        except TypeError:  # not JSON (only possible from a caller other than a transport)
            return self._price(text, variables, operation_name)
        if len(given) > MAX_PRICED_VARIABLES_BYTES or not isinstance(operation_name, str | None):
            return self._price(text, variables, operation_name)
        key = (text, given, operation_name)
        found = self._prices.get(key)
        if found is None:
            found = self._prices[key] = self._price(text, variables, operation_name)
            if len(self._prices) > PRICES:
                del self._prices[next(iter(self._prices))]  # the oldest
        return found

    def _price(self, text: str, variables: dict[str, Any] | None, operation_name: str | None) -> Priced:
        parsed = self._parse(text)
        if isinstance(parsed, GraphQLError):
            too_big = (parsed.extensions or {}).get("code") == QUERY_TOO_COMPLEX
            return Priced(None, errors=(parsed,) if too_big else ())
        document, shape_errors = parsed
        if shape_errors:
            return Priced(document, errors=shape_errors)
        requested = requested_cost(self.schema, document, variables, operation_name, self.limits.weights)
        if requested > self.limits.max_cost:
            too_costly = check_cost(self.schema, document, variables, operation_name, self.limits)
            return Priced(document, errors=tuple(too_costly))
        return Priced(document, requested)

    def actual(
        self, priced: Priced, variables: dict[str, Any] | None, operation_name: str | None, data: Any
    ) -> int:
        if priced.document is None:
            return 0
        return actual_cost(self.schema, priced.document, variables, operation_name, data, self.limits.weights)

    async def charge(self, client: str, points: int) -> Throttle | None:
        return await self.budgets.take(client, points)

    def refund(self, client: str, points: int, charged: Throttle | None) -> Throttle | None:
        # Given back with the client's next charge (CostBudgets): no round trip of its own.
        if points <= 0 or charged is None:
            return charged
        return self.budgets.refund(client, points, charged)

    @staticmethod
    def report(requested: int, actual: int | None, throttle: Throttle | None) -> dict[str, Any]:
        return {
            "requestedQueryCost": requested,
            "actualQueryCost": actual,
            "throttleStatus": None
            if throttle is None
            else {
                "maximumAvailable": throttle.maximum_available,
                "currentlyAvailable": throttle.currently_available,
                "restoreRate": throttle.restore_rate,
            },
        }


def budget_key(viewer: Viewer, client_host: str | None) -> str:
    """Signed-in clients by who they are; anonymous ones by address."""
    if viewer.is_authenticated and viewer.subject:
        return f"{viewer.role.value}:{viewer.subject}"
    return f"ip:{client_host or 'unknown'}"
