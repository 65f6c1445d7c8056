"""Admission: whether an operation may run, with one answer for every transport.

In order: the persisted-query rules, the text of the variables, introspection by role, the shape
limits and the cost, then the client's budget. The HTTP view and the WebSocket handler both ask
`admit()` for every operation they receive and call `settle()` once it has run. The answer is a
value, `Admitted` (the text to run, its price, what was charged) or `Refused` (the errors, the HTTP
status, the outcome), so nothing downstream has to work out from a status code what happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from graphql import GraphQLError, OperationType, get_operation_ast, validate

from auth.viewer import Viewer
from config import Settings
from datasources.redis.budgets import Throttle
from errors import (
    BadUserInput,
    BookgraphError,
    Forbidden,
    MethodNotAllowed,
    PersistedQueryNotFound,
    Throttled,
)
from gateway.cost import Priced, QueryCost, budget_key
from gateway.inputs import check_variables
from gateway.introspection import uses_introspection
from gateway.persisted import PersistedQueries

Outcome = Literal["refused", "throttled"]

# Every request pays at least this, refused ones too; registering an APQ document pays this more.
MINIMUM_CHARGE = 1
REGISTRATION_CHARGE = 10


@dataclass(frozen=True, slots=True)
class OperationRequest:
    """What a client sent, over whichever transport."""

    query: str | None
    variables: dict[str, Any] | None = None
    operation_name: str | None = None
    extensions: dict[str, Any] | None = None
    read_only: bool = False  # GET: only queries may run
    streams: bool = True  # the transport can carry a subscription's events (HTTP here cannot)


@dataclass(frozen=True, slots=True)
class Admitted:
    query: str | None  # None: the client sent no query at all, and the executor says so
    request: OperationRequest
    priced: Priced
    client: str  # whose budget pays
    charged: Throttle | None  # None: the budget store was unavailable, and budgets fail open


@dataclass(frozen=True, slots=True)
class Refused:
    errors: tuple[GraphQLError, ...]
    status: int = 400
    outcome: Outcome = "refused"
    headers: tuple[tuple[str, str], ...] = ()
    extensions: dict[str, Any] | None = None


class Admission:
    def __init__(self, settings: Settings, persisted: PersistedQueries, cost: QueryCost) -> None:
        self.settings = settings
        self.persisted = persisted
        self.cost = cost

    async def admit(
        self, request: OperationRequest, viewer: Viewer, client_host: str | None
    ) -> Admitted | Refused:
        client = budget_key(viewer, client_host)
        decision = await self._decide(request, viewer, client)
        if isinstance(decision, Refused):
            # Nothing is free, a refusal included: a client cannot loop on the server for nothing.
            charged = await self.cost.charge(client, MINIMUM_CHARGE)
            if charged is not None and not charged.taken and decision.outcome != "throttled":
                return self._throttled(MINIMUM_CHARGE, charged)
        return decision

    async def _decide(self, request: OperationRequest, viewer: Viewer, client: str) -> Admitted | Refused:
        resolved = await self.persisted.resolve(request.query, request.extensions, viewer)
        if resolved.error is not None:
            # PERSISTED_QUERY_NOT_FOUND is a step of the protocol, not a failure: clients (Apollo
            # Kotlin among them) expect a 200 whose error tells them to send the text.
            status = 200 if isinstance(resolved.error, PersistedQueryNotFound) else 400
            return Refused((_error(resolved.error),), status)
        text = check_variables(request.variables, self.settings.max_string_length)
        if text is not None:
            return Refused((text,))
        query = resolved.query
        if query is None:
            return Admitted(None, request, Priced(None), client, None)
        if len(query) > self.settings.max_query_length:
            too_long = GraphQLError(
                f"The query is {len(query)} characters long, more than the maximum of "
                f"{self.settings.max_query_length}.",
                extensions={
                    "code": "QUERY_TOO_COMPLEX",
                    "length": len(query),
                    "limit": self.settings.max_query_length,
                },
            )
            return Refused((too_long,))
        if not self.settings.may_introspect(viewer.role.value) and uses_introspection(query):
            return Refused((_error(Forbidden("Introspection is not available to this client.")),))
        priced = self.cost.price(query, request.variables, request.operation_name)
        if priced.errors:
            return Refused(priced.errors)
        kind = self.operation_type(query, request.operation_name)
        if not request.streams and kind is OperationType.SUBSCRIPTION:
            streaming = BadUserInput(
                "Subscriptions are served over WebSocket (graphql-transport-ws) at /graphql."
            )
            return Refused((_error(streaming),))
        if request.read_only and kind is OperationType.MUTATION:
            # A persisted mutation asked for by its hash over GET: GET is meant to be safe to repeat.
            refused = MethodNotAllowed("Mutations are sent with POST, never with GET.")
            return Refused((_error(refused),), 405, headers=(("Allow", "POST"),))
        if resolved.register is not None:
            registered = await self._register(resolved.register, query, priced, client)
            if registered is not None:
                return registered
        charge = max(priced.requested, MINIMUM_CHARGE)
        charged = await self.cost.charge(client, charge)
        if charged is not None and not charged.taken:
            return self._throttled(charge, charged)
        return Admitted(query, request, priced, client, charged)

    async def _register(self, digest: str, query: str, priced: Priced, client: str) -> Refused | None:
        """Stores an APQ document for every process, once it is known to be worth storing: it
        parses, passes the limits (done by now) and validates, and its client pays for the space."""
        if priced.document is None or validate(self.cost.schema, priced.document):
            return None  # not stored: Strawberry reports the parse or validation errors as usual
        charged = await self.cost.charge(client, REGISTRATION_CHARGE)
        if charged is not None and not charged.taken:
            return self._throttled(REGISTRATION_CHARGE, charged)
        most = self.settings.apq_registrations_per_client
        if (await self.persisted.registrations(client) or 0) > most:
            refused = Throttled(
                f"At most {most} new persisted queries a day per client; send it without `persistedQuery`."
            )
            return Refused((_error(refused),), 429, "throttled")
        await self.persisted.register(digest, query)
        return None

    def operation_type(self, query: str | None, operation_name: str | None) -> OperationType | None:
        """The type of the operation `query` names, from the parse cache; None if it has none."""
        document = self.cost.document(query) if query else None
        operation = get_operation_ast(document, operation_name) if document else None
        return operation.operation if operation else None

    async def charge_again(self, admitted: Admitted) -> Refused | None:
        """A subscription's price once more (for each event it delivers); a refusal when the
        client's budget cannot pay."""
        charged = await self.cost.charge(admitted.client, admitted.priced.requested)
        if charged is not None and not charged.taken:
            return self._throttled(admitted.priced.requested, charged)
        return None

    def _throttled(self, requested: int, charged: Throttle) -> Refused:
        throttled = Throttled("The cost budget is used up; retry after the Retry-After header's seconds.")
        return Refused(
            (_error(throttled),),
            429,
            "throttled",
            (("Retry-After", str(charged.retry_after(requested))),),
            {"cost": self.cost.report(requested, None, charged)},
        )

    async def settle(self, admitted: Admitted, data: Any, actual: int | None = None) -> dict[str, Any]:
        """Gives back what the operation did not use; what its response reports as `extensions.cost`.
        `actual` when the executor counted it itself (a plan does); else it is counted from `data`."""
        request = admitted.request
        if actual is None:
            actual = self.cost.actual(admitted.priced, request.variables, request.operation_name, data)
        settled = self.cost.refund(admitted.client, admitted.priced.requested - actual, admitted.charged)
        return self.cost.report(admitted.priced.requested, actual, settled)


def _error(error: BookgraphError) -> GraphQLError:
    return GraphQLError(error.message, original_error=error)
