"""The GraphQL endpoint: Strawberry's ASGI view, held to GraphQL over HTTP and to admission.

Over HTTP: CSRF prevention, then `Admission.admit()`, then Strawberry, then `settle()`; the answer's
media type follows the client's Accept (gateway/media.py), and every refusal, even of a request
that never became an operation (bad JSON, no query, a method other than GET and POST), is a GraphQL
JSON error with a code. Over WebSocket: gateway/websocket.py, with the same admission.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Any

import orjson
import strawberry
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import OperationType
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData, process_result
from strawberry.http.base import BaseRequestProtocol
from strawberry.types import ExecutionResult

from auth.middleware import bearer_token
from auth.tokens import TokenVerifier
from context import Context, build_context
from errors import ErrorCode, Unauthenticated
from execution.plan import Answer, Fallback
from gateway.admission import OperationRequest, Refused
from gateway.caching import NO_STORE, VARY
from gateway.csrf import MESSAGE as CSRF_MESSAGE
from gateway.csrf import might_be_forged
from gateway.graphiql import GraphiQL
from gateway.media import negotiate, status_for
from gateway.origins import Origins
from gateway.services import services
from gateway.websocket import AdmittedTransportWSHandler, TextFrames
from observability.telemetry import (
    EXECUTIONS,
    GRAPHQL_OPERATION_SECONDS,
    GRAPHQL_OPERATIONS,
    REQUEST_FACTS,
    REQUEST_ID,
)
from schema.errors import present_all, refused_before_execution

METHODS = "GET, POST"


@dataclass
class RefusedResult(ExecutionResult):
    """Refused by admission: nothing ran, so the response has no `data` entry."""


class NotAllowed(HTTPException):
    def __init__(self, reason: str, allow: str = METHODS) -> None:
        super().__init__(405, reason)
        self.allow = allow


class GraphQLApp(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = AdmittedTransportWSHandler
    websocket_adapter_class = TextFrames

    def __init__(
        self,
        schema: strawberry.Schema,
        verifier: TokenVerifier,
        origins: Origins,
        graphiql: GraphiQL | None,
        **options: Any,
    ) -> None:
        super().__init__(schema, graphql_ide="graphiql" if graphiql else None, **options)
        self.verifier = verifier  # the HTTP backend's: WebSocket tokens are checked the same way
        self.origins = origins
        self.graphiql = graphiql

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            if request.method not in ("GET", "POST"):
                raise NotAllowed(f"GraphQL is served over {METHODS}, not {request.method}.")
            response = await self.run(request)
        except HTTPException as refused:
            response = self._refusal(request, refused)
        await response(scope, receive, send)

    def _refusal(self, request: Request, refused: HTTPException) -> Response:
        """A request that never became an operation, as a GraphQL error clients can read."""
        code = ErrorCode.METHOD_NOT_ALLOWED if refused.status_code == 405 else ErrorCode.BAD_REQUEST
        body = {"errors": [{"message": refused.reason, "extensions": {"code": code.value}}]}
        response = Response(
            self.encode_json(body),
            status_code=refused.status_code,
            media_type=negotiate(request.headers.get("accept")),
            headers={"Cache-Control": NO_STORE, "Vary": VARY},
        )
        if isinstance(refused, NotAllowed):
            response.headers["Allow"] = refused.allow
        return response

    def is_websocket_origin_allowed(self, request: WebSocket, origin: str) -> bool:
        # The CORS policy: a page that may call the API over HTTP may subscribe, and no other.
        return self.origins.allows(origin)

    def encode_json(self, data: object) -> bytes:
        # orjson is several times faster than json.dumps on large responses.
        return orjson.dumps(data)

    def parse_json(self, data: str | bytes) -> Any:
        parsed = super().parse_json(data)
        # An operation is an object (a batch, a list of them): `"{ q }"` or `1` would reach
        # Strawberry's `.get()` and fail there as a server error.
        items = parsed if isinstance(parsed, list) else [parsed]
        if not all(isinstance(item, dict) for item in items):
            raise HTTPException(400, "A GraphQL request is a JSON object (a batch, an array of them).")
        return parsed

    def decode_json(self, data: str | bytes) -> object:
        # orjson refuses JSON nested deeper than 1,024 levels and invalid UTF-8 with a decode error
        # (the client's: a 400); json.loads raised RecursionError on deep nesting, a 500.
        return orjson.loads(data)

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        sub_response = await super().get_sub_response(request)
        sub_response.media_type = negotiate(request.headers.get("accept"))
        return sub_response

    def create_response(
        self, response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse], sub_response: Response
    ) -> Response:
        media_type = sub_response.media_type or negotiate(None)
        response = Response(
            self.encode_json(response_data),
            status_code=status_for(media_type, sub_response.status_code or 200),
            media_type=media_type,
        )
        response.headers.raw.extend(sub_response.headers.raw)
        if sub_response.background:
            response.background = sub_response.background
        return response

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        # Here rather than in a schema extension: parse errors raised by the parser cache
        # skip the extensions' post-operation hooks, but every HTTP result passes here.
        hints = services(request.app).settings.may_introspect(request.user.role.value)
        before_execution = isinstance(result, RefusedResult) or refused_before_execution(result)
        result.errors = present_all(result.errors, suggestions=hints)
        response = process_result(result)
        if before_execution:
            # Nothing was executed: the GraphQL spec has no `data` entry then, not even null.
            response.pop("data", None)
        return response

    async def render_graphql_ide(self, request: Request) -> Response:
        # Our own build (gateway/graphiql.py), not Strawberry's page, which loads from a CDN.
        assert self.graphiql is not None  # Strawberry renders an IDE only when one is configured
        return self.graphiql.page(request)

    def should_render_graphql_ide(self, request: BaseRequestProtocol) -> bool:
        # A GET carrying only a persisted query's hash is an operation, not a visit to GraphiQL.
        return super().should_render_graphql_ide(request) and "extensions" not in request.query_params

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        started = time.perf_counter()
        result, outcome = await self._execute(request, request_adapter, sub_response, context, request_data)
        persisted = services(request.app).persisted
        name = request_data.operation_name
        # Only names the server knows become labels: clients' own names cannot explode the series.
        label = name if name in persisted.operation_names else "other"
        GRAPHQL_OPERATIONS.labels(label, outcome).inc()
        GRAPHQL_OPERATION_SECONDS.labels(label).observe(time.perf_counter() - started)
        facts = REQUEST_FACTS.get()
        if facts is not None:
            facts.update(operation=name, viewer=context.viewer.identity or "anonymous", outcome=outcome)
        return result

    async def _execute(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Context,
        request_data: GraphQLRequestData,
    ) -> tuple[ExecutionResult, str]:
        admission = services(request.app).admission
        read_only = request.method == "GET"
        if (
            read_only
            and admission.operation_type(request_data.query, request_data.operation_name)
            is OperationType.MUTATION
        ):
            # Whatever the headers: GET is meant to be safe to repeat, and a CDN may cache it.
            raise NotAllowed("Mutations are sent with POST, never with GET.", allow="POST")
        if might_be_forged(request.headers):
            raise HTTPException(400, CSRF_MESSAGE)
        asked = OperationRequest(
            request_data.query,
            request_data.variables,
            request_data.operation_name,
            request_data.extensions,
            read_only=read_only,
            streams=False,
        )
        decision = await admission.admit(
            asked, context.viewer, request.client.host if request.client else None
        )
        if isinstance(decision, Refused):
            sub_response.status_code = decision.status
            sub_response.headers.update(dict(decision.headers))
            sub_response.headers.update({"Cache-Control": NO_STORE, "Vary": VARY})
            refused = RefusedResult(data=None, errors=list(decision.errors), extensions=decision.extensions)
            return refused, decision.outcome
        request_data = dataclasses.replace(request_data, query=decision.query)
        answer = await self._planned(request, context, request_data)
        if answer is not None:
            # The plan wrote `data` as JSON already; orjson splices it into the response.
            result = ExecutionResult(data=answer.data, errors=None)  # type: ignore[arg-type]
        else:
            result = await super().execute_single(
                request, request_adapter, sub_response, context, None, request_data
            )
        if refused_before_execution(result):
            # Unparsable, invalid, or variables that do not fit: the request is at fault, and the
            # status says so too (for clients that read it: gateway/media.py).
            sub_response.status_code = 400
            outcome = "refused"
        else:
            outcome = "ok" if not result.errors else "partial" if result.data else "error"
        result.extensions = {
            **(result.extensions or {}),
            **context.extensions,
            "cost": await admission.settle(
                decision, result.data, answer.actual_cost if answer is not None else None
            ),
        }
        policies = services(request.app).cache_policies
        sub_response.headers["Cache-Control"] = policies.header(
            decision.priced.document,
            request_data.operation_name,
            errors=bool(result.errors),
            with_token=context.viewer.is_authenticated,
        )
        sub_response.headers["Vary"] = VARY
        return result, outcome

    async def _planned(
        self, request: Request, context: Context, request_data: GraphQLRequestData
    ) -> Answer | None:
        """The answer of the operation's plan, or None for Strawberry to execute it."""
        plans = services(request.app).plans
        name, variables = request_data.operation_name, request_data.variables
        if plans is None or request_data.query is None:
            return None
        if not isinstance(name, str | None) or not isinstance(variables, dict | None):
            return None  # as the client sent them: Strawberry refuses them with a 400
        answer = await plans.answer(request_data.query, name, variables, context)
        if isinstance(answer, Fallback):
            EXECUTIONS.labels("fallback", answer.reason).inc()
            return None
        EXECUTIONS.labels("plan", "").inc()
        return answer

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        state = services(request.app)
        return build_context(
            request,
            response if isinstance(response, Response) else None,
            state.settings,
            state.stores,
            state.model,
            state.checkout,
            state.recommender,
            request.user,
            REQUEST_ID.get(),
            state.coverage,
        )

    async def on_ws_connect(self, context: Context) -> dict[str, object] | None:
        # Browsers cannot set headers on a WebSocket: the token may come in `connection_init`.
        params = context.connection_params or {}
        authorization = params.get("Authorization") or params.get("authorization")
        if not isinstance(authorization, str):
            return None
        try:
            viewer = await self.verifier.verify(bearer_token(authorization))
        except Unauthenticated as exc:
            raise ConnectionRejectionError({"message": exc.message}) from exc
        context.with_viewer(viewer)
        return None
