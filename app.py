"""Composition root: the Starlette app, its routes, and the lifespan that owns every store client."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
import strawberry
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData, process_result
from strawberry.http.base import BaseRequestProtocol
from strawberry.schema.config import StrawberryConfig
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult

from auth.middleware import BearerTokenBackend, unauthenticated_response
from auth.tokens import TokenVerifier
from checkout import checkout_for
from config import Settings, get_settings
from context import Context, build_context
from datasources.budgets import CostBudgets
from datasources.documents import DocumentStore
from datasources.events import EventBus
from datasources.orders import OrdersSource
from datasources.recommendation_cache import RecommendationCache
from datasources.stores import Stores
from embedded import with_embedded_stores
from embeddings import Model
from errors import (
    SourceUnavailable,
    Unauthenticated,
)
from gateway.admission import Admission, OperationRequest, Refused
from gateway.body_limit import BodySizeLimitMiddleware
from gateway.cost import QueryCost
from gateway.csrf import MESSAGE as CSRF_MESSAGE
from gateway.csrf import might_be_forged
from gateway.persisted import MANIFEST_PATH, Manifest, PersistedQueries
from gateway.websocket import AdmittedTransportWSHandler, TextFrames
from limits import CostWeights, Limits
from observability import (
    GRAPHQL_OPERATION_SECONDS,
    GRAPHQL_OPERATIONS,
    REQUEST_FACTS,
    REQUEST_ID,
    RequestContextMiddleware,
    configure_logging,
)
from recommender import recommender_for
from schema.errors import present_all, refused_before_execution
from schema.root import build_schema, schema
from tracing import configure_tracing

log = logging.getLogger("bookgraph")


class GraphQLApp(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = AdmittedTransportWSHandler
    websocket_adapter_class = TextFrames

    def __init__(self, schema: strawberry.Schema, verifier: TokenVerifier, **options: Any) -> None:
        super().__init__(schema, **options)
        self.verifier = verifier  # the HTTP backend's: WebSocket tokens are checked the same way

    def encode_json(self, data: object) -> bytes:
        # orjson is several times faster than json.dumps on large responses.
        return orjson.dumps(data)

    def decode_json(self, data: str | bytes) -> object:
        # orjson refuses JSON nested deeper than 1,024 levels and invalid UTF-8 with a decode error
        # (the client's: a 400); json.loads raised RecursionError on deep nesting, a 500.
        return orjson.loads(data)

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        # Here rather than in a schema extension: parse errors raised by the parser cache
        # skip the extensions' post-operation hooks, but every HTTP result passes here.
        hints = request.app.state.settings.may_introspect(request.user.role.value)
        result.errors = present_all(result.errors, suggestions=hints)
        return process_result(result)

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
        persisted: PersistedQueries = request.app.state.persisted
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
        if might_be_forged(request.method, request.headers):
            raise HTTPException(400, CSRF_MESSAGE)
        admission: Admission = request.app.state.admission
        asked = OperationRequest(
            request_data.query, request_data.variables, request_data.operation_name, request_data.extensions
        )
        decision = await admission.admit(
            asked, context.viewer, request.client.host if request.client else None
        )
        if isinstance(decision, Refused):
            sub_response.status_code = decision.status
            sub_response.headers.update(dict(decision.headers))
            return ExecutionResult(data=None, errors=list(decision.errors), extensions=decision.extensions), (
                decision.outcome
            )
        request_data = dataclasses.replace(request_data, query=decision.query)
        result = await super().execute_single(
            request, request_adapter, sub_response, context, None, request_data
        )
        if refused_before_execution(result):
            # Unparsable, invalid, or variables that do not fit: the request is at fault, and the
            # status says so too, as the GraphQL-over-HTTP spec asks.
            sub_response.status_code = 400
            outcome = "refused"
        else:
            outcome = "ok" if not result.errors else "partial" if result.data else "error"
        result.extensions = {
            **(result.extensions or {}),
            "cost": await admission.settle(decision, result.data),
        }
        return result, outcome

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        state = request.app.state
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
        )

    async def on_ws_connect(self, context: Context) -> dict[str, object] | None:
        # Browsers cannot set headers on a WebSocket: the token may come in `connection_init`.
        params = context.connection_params or {}
        authorization = params.get("Authorization") or params.get("authorization")
        if not isinstance(authorization, str):
            return None
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ConnectionRejectionError({"message": "Use `Authorization: Bearer <token>`."})
        try:
            viewer = await self.verifier.verify(token.strip())
        except Unauthenticated as exc:
            raise ConnectionRejectionError({"message": exc.message}) from exc
        context.viewer = viewer
        context.orders = OrdersSource(context.orders.engine, viewer)
        return None


async def forget_recommendations_on_orders(events: EventBus, cache: RecommendationCache) -> None:
    """Every process listens, so a customer's cached lists go as soon as any process takes an order;
    deleting twice is harmless. With Redis down it waits and listens again."""
    while True:
        try:
            async for event in events.listen(patterns=[events.order_channel("*", "*")]):
                if event["to_status"] in ("CONFIRMED", "CANCELLED"):
                    await cache.forget_customer(event["customer_id"])
        except SourceUnavailable:
            await asyncio.sleep(1.0)


async def healthz(_: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    problems = await request.app.state.stores.readiness()
    failing = {store for store, problem in problems.items() if problem}
    # Redis only caches and carries events: without it the API still answers, more slowly.
    status = "unavailable" if failing - {"redis"} else "degraded" if failing else "ready"
    body: dict[str, Any] = {
        "status": status,
        "stores": {
            store: ("unavailable: " + problem if problem else "ok") for store, problem in problems.items()
        },
    }
    return JSONResponse(body, status_code=503 if status == "unavailable" else 200)


async def metrics(_: Request) -> Response:
    return PlainTextResponse(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def create_app(settings: Settings | None = None, *, stores: Stores | None = None) -> Starlette:
    """The app; `stores` are opened by the lifespan unless given (then their owner closes them)."""
    settings = with_embedded_stores(settings or get_settings())

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        owned = stores is None
        app.state.settings = settings
        app.state.stores = Stores.open(settings) if stores is None else stores
        app.state.model = Model()
        if settings.preload_model:
            # Loaded before the app reports ready, so no request waits for the model.
            await app.state.model.get()
        app.state.checkout = checkout_for(settings, app.state.stores)
        app.state.recommender = recommender_for(settings, app.state.stores)
        app.state.cost = QueryCost(
            executable._schema,
            Limits(
                max_depth=settings.max_query_depth,
                max_aliases=settings.max_query_aliases,
                max_directives=settings.max_query_directives,
                max_tokens=settings.max_query_tokens,
                max_cost=settings.max_query_cost,
                weights=CostWeights(
                    default_list_size=settings.cost_list_size,
                    # A federation router's batch of references is priced by its length.
                    id_list_arguments=("ids", "representations"),
                ),
            ),
            CostBudgets(
                app.state.stores.redis,
                settings.redis_key_prefix,
                settings.cost_bucket_size,
                settings.cost_restore_rate,
            ),
            max_string_length=settings.max_string_length,
        )
        app.state.persisted = PersistedQueries(
            DocumentStore(app.state.stores.redis, settings.redis_key_prefix, settings.apq_ttl_seconds),
            Manifest.load(MANIFEST_PATH),
            settings.persisted_queries,
            set(settings.persisted_queries_enforced_for),
        )
        app.state.admission = Admission(settings, app.state.persisted, app.state.cost)
        invalidation = asyncio.create_task(
            forget_recommendations_on_orders(app.state.checkout.events, app.state.recommender.cache)
        )
        try:
            await app.state.stores.index.ensure_collection()
        except SourceUnavailable:
            log.warning("search store unavailable at start-up; search fields fail until it returns")
        # Everything alive now (modules, the model) lives as long as the process: keep it out of
        # the collector's full passes, which otherwise stall requests for hundreds of milliseconds.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            await backend.aclose()
            invalidation.cancel()
            # Bounded: a listener cancelled while its Redis connection is still being set up can
            # take long to unwind, and shutdown must not wait on it.
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(invalidation, timeout=2.0)
            if owned:
                await app.state.stores.close()

    batching = StrawberryConfig(batching_config={"max_operations": settings.http_batch_max})
    executable = build_schema(config=batching) if settings.http_batch_max else schema
    backend = BearerTokenBackend(settings)
    graphql = GraphQLApp(
        executable,
        backend.verifier,
        graphql_ide="graphiql" if settings.graphiql else None,
        # Only the current protocol: the legacy graphql-ws one is not offered.
        subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL],
    )
    return Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics),
        ],
        middleware=[
            Middleware(RequestContextMiddleware, log_requests=settings.access_log),
            Middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes),
            Middleware(
                AuthenticationMiddleware,
                backend=backend,
                on_error=unauthenticated_response,
            ),
        ],
        lifespan=lifespan,
    )


def app_from_environment() -> Starlette:
    """uvicorn entry point (`uvicorn app:app_from_environment --factory`)."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    configure_tracing(settings.otel_exporter, settings.otel_endpoint)
    return create_app(settings)
