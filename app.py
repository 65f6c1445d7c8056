"""Composition root: the Starlette app, its routes, and the lifespan that owns every store client."""

from __future__ import annotations

import asyncio
import gc
import hmac
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from strawberry.schema.config import StrawberryConfig
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from auth.middleware import BearerTokenBackend, unauthenticated_response
from checkout.saga import checkout_for
from config import Settings, get_settings
from datasources.embedded import with_embedded_stores
from datasources.orders.rows import OrderStatus
from datasources.redis.budgets import CostBudgets
from datasources.redis.documents import DocumentStore
from datasources.redis.events import EventBus
from datasources.redis.recommendations import RecommendationCache
from datasources.stores import Stores
from embeddings.model import Model
from errors import (
    SourceUnavailable,
)
from execution.plans import CompiledExecution, Planner
from gateway import shutdown
from gateway.admission import Admission
from gateway.body_limit import BodySizeLimitMiddleware
from gateway.caching import CachePolicies
from gateway.cost import QueryCost
from gateway.graphiql import ASSET_PATH, GraphiQL
from gateway.origins import Origins
from gateway.persisted import MANIFEST_PATH, Manifest, PersistedQueries
from gateway.services import Services, services
from gateway.view import GraphQLApp
from ingest.indexing import IndexFollower, count_coverage, watch_coverage
from limits import CostWeights, Limits
from observability.telemetry import RequestContextMiddleware, configure_logging
from observability.tracing import configure_tracing
from recommendations.recommender import recommender_for
from schema.relations import field_costs
from schema.root import build_schema, schema

log = logging.getLogger("bookgraph")


async def forget_recommendations_on_orders(events: EventBus, cache: RecommendationCache) -> None:
    """Every process listens, so a customer's cached lists go as soon as any process takes an order;
    deleting twice is harmless. With Redis down it waits and listens again."""
    while True:
        try:
            async for event in events.listen(patterns=[events.order_channel("*", "*")]):
                if event["to_status"] in (OrderStatus.CONFIRMED, OrderStatus.CANCELLED):
                    await cache.forget_customer(event["customer_id"])
        except SourceUnavailable:
            await asyncio.sleep(1.0)


async def healthz(_: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    state = services(request.app)
    problems = await state.stores.readiness()
    failing = {store for store, problem in problems.items() if problem}
    # Whether this process can serve, not whether every store answers: the stores are shared by
    # every replica, so pulling this one out of the load balancer would help no request, and the
    # fields of a store that is down already fail on their own (SOURCE_UNAVAILABLE).
    status = "degraded" if failing else "ready"
    for store in sorted(failing):
        # The driver's words (socket paths, host names) go to the log, not to whoever asks.
        log.warning("store unavailable", extra={"store": store, "error": problems[store]})
    body: dict[str, Any] = {
        "status": status,
        "stores": {store: "unavailable" if problem else "ok" for store, problem in problems.items()},
    }
    if not problems.get("search") and not state.coverage.complete:
        body["stores"]["search"] = state.coverage.describe()  # serving, from what is indexed so far
    return JSONResponse(body)


async def metrics(request: Request) -> Response:
    settings = services(request.app).settings
    if settings.environment == "production" or settings.metrics_token is not None:
        token = settings.metrics_token.get_secret_value() if settings.metrics_token else None
        given = request.headers.get("authorization", "")
        if token is None or not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return PlainTextResponse("Not Found", status_code=404)
    return PlainTextResponse(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def create_app(settings: Settings | None = None, *, stores: Stores | None = None) -> Starlette:
    """The app; `stores` are opened by the lifespan unless given (then their owner closes them)."""
    settings = with_embedded_stores(settings or get_settings())

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        owned = stores is None
        opened = Stores.open(settings) if stores is None else stores
        model = Model()
        if settings.preload_model:
            # Loaded before the app reports ready, so no request waits for the model.
            await model.get()
        cost = QueryCost(
            executable._schema,
            Limits(
                max_depth=settings.max_query_depth,
                max_aliases=settings.max_query_aliases,
                max_directives=settings.max_query_directives,
                max_tokens=settings.max_query_tokens,
                max_cost=settings.max_query_cost,
                weights=CostWeights(
                    field_costs=field_costs(executable._schema),
                    default_list_size=settings.cost_list_size,
                    # A federation router's batch of references is priced by its length.
                    id_list_arguments=("ids", "representations"),
                ),
            ),
            CostBudgets(
                opened.redis,
                settings.redis_key_prefix,
                settings.cost_bucket_size,
                settings.cost_restore_rate,
            ),
            max_string_length=settings.max_string_length,
        )
        manifest = Manifest.load(MANIFEST_PATH)
        persisted = PersistedQueries(
            DocumentStore(opened.redis, settings.redis_key_prefix, settings.apq_ttl_seconds),
            manifest,
            settings.persisted_queries,
            set(settings.persisted_queries_enforced_for),
        )
        state = app.state.services = Services(
            settings=settings,
            stores=opened,
            model=model,
            checkout=checkout_for(settings, opened),
            recommender=recommender_for(settings, opened),
            persisted=persisted,
            admission=Admission(settings, persisted, cost),
            cache_policies=CachePolicies(executable._schema),
            plans=_compiled_execution(settings, cost, opened, manifest),
        )
        invalidation = asyncio.create_task(
            forget_recommendations_on_orders(state.checkout.events, state.recommender.cache)
        )
        giving_back = asyncio.create_task(_give_back(cost.budgets))
        try:
            await state.stores.index.ensure_collection()
        except SourceUnavailable:
            log.warning("search store unavailable at start-up; search fields fail until it returns")
        # Search answers from what is indexed while a first start's catalog is still embedded
        # (in the background, below, or by the worker), and says so.
        await count_coverage(state.stores.inventory, state.coverage)
        watching = asyncio.create_task(
            watch_coverage(state.stores.inventory, state.coverage, settings.index_follow_interval_seconds)
        )
        # An embedded index lives in this process alone, so this process is its safety net for
        # index changes left pending (with a Qdrant server, the worker is): one batch before
        # serving, the rest in the background, at once if books were never indexed.
        following: asyncio.Task[None] | None = None
        if not settings.qdrant_url:
            follower = IndexFollower.of(state.stores, state.model.get)
            await follower.pass_logged(embed=False, max_batches=1)
            following = asyncio.create_task(
                follower.run(
                    settings.index_follow_interval_seconds,
                    now=settings.embed_on_start and not state.coverage.complete,
                )
            )
        # Everything alive now (modules, the model) lives as long as the process: keep it out of
        # the collector's full passes, which otherwise stall requests for hundreds of milliseconds.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            # Each step bounded (gateway/shutdown.py): one that hangs is logged and left behind.
            await shutdown.step("token keys", backend.aclose())
            for name, task in (
                ("index follower", following),
                ("refunds", giving_back),
                ("index coverage", watching),
                ("recommendation invalidation", invalidation),
            ):
                if task is not None:
                    await shutdown.stop(name, task)
            await shutdown.step("refund flush", cost.budgets.flush())
            await shutdown.step("event hub", state.checkout.events.aclose())
            if owned:
                await shutdown.step("stores", state.stores.close())

    batching = StrawberryConfig(batching_config={"max_operations": settings.http_batch_max})
    executable = (
        build_schema(config=batching, inline=settings.inline_fields)
        if settings.http_batch_max or not settings.inline_fields
        else schema
    )
    backend = BearerTokenBackend(settings)
    origins = Origins.of(settings)
    graphiql = GraphiQL.load() if settings.serves_graphiql else None
    graphql = GraphQLApp(
        executable,
        backend.verifier,
        origins,
        graphiql,
        # Only the current protocol: the legacy graphql-ws one is not offered.
        subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL],
        max_subscriptions_per_connection=settings.subscriptions_per_connection,
    )
    return Starlette(
        routes=[
            # Every method reaches the view, which answers the others with a coded 405 and `Allow`.
            Route("/graphql", graphql),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics),
            *([Route(ASSET_PATH, graphiql.asset)] if graphiql else []),
        ],
        middleware=[
            Middleware(RequestContextMiddleware, log_requests=settings.access_log),
            # Before authentication: a preflight carries no token.
            origins.middleware(settings),
            # Responses over a kilobyte, for clients that accept gzip (a page of books is tens of KB).
            Middleware(GZipMiddleware, minimum_size=1024, compresslevel=6),
            Middleware(
                BodySizeLimitMiddleware,
                max_bytes=settings.max_body_bytes,
                timeout_seconds=settings.request_body_timeout_seconds,
            ),
            Middleware(
                AuthenticationMiddleware,
                backend=backend,
                on_error=unauthenticated_response,
            ),
        ],
        lifespan=lifespan,
    )


async def _give_back(budgets: CostBudgets, every_seconds: float = 1.0) -> None:
    """Refunds owed to clients that have not sent another request (the next one carries them)."""
    while True:
        await asyncio.sleep(every_seconds)
        await budgets.flush()


def _compiled_execution(
    settings: Settings, cost: QueryCost, stores: Stores, manifest: Manifest
) -> CompiledExecution | None:
    if not settings.compiled_execution:
        return None
    planner = Planner(cost.schema, cost.limits.weights, cost.document)
    # The trusted documents are planned before the first request; others on first sight.
    made = planner.warm([(op.body, op.name) for op in manifest.operations.values()])
    log.info(
        "query plans made for the trusted documents", extra={"plans": made, "of": len(manifest.operations)}
    )
    return CompiledExecution(planner, stores.orders)


def app_from_environment() -> Starlette:
    """uvicorn entry point (`uvicorn app:app_from_environment --factory`)."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    configure_tracing(settings.otel_exporter, settings.otel_endpoint)
    return create_app(settings)
