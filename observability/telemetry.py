"""Metrics, structured logs and the request id that ties a response to its log lines."""

from __future__ import annotations

import logging
import random
import re
import sys
import time
from contextvars import ContextVar

from prometheus_client import Counter, Histogram
from pythonjsonlogger.json import JsonFormatter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID: ContextVar[str] = ContextVar("request_id", default="-")

STORE_STATEMENTS = Counter(
    "bookgraph_store_statements",
    "Statements executed against each store.",
    ["store"],
)
STORE_CIRCUIT = Counter(
    "bookgraph_store_circuit",
    "A store's circuit breaker: opened (the store stopped answering), refused (a call failed at "
    "once, unasked), closed (it answers again).",
    ["store", "event"],
)
LOADER_BATCH_SIZE = Histogram(
    "bookgraph_dataloader_batch_size",
    "Keys per DataLoader batch.",
    ["loader"],
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000),
)
EXECUTIONS = Counter(
    "bookgraph_execution",
    "Operations by how they ran: from a compiled plan, or by Strawberry (with the plan's reason).",
    ["path", "reason"],
)
HTTP_REQUESTS = Counter(
    "bookgraph_http_requests",
    "HTTP requests by route and status.",
    ["path", "status"],
)
HTTP_LATENCY = Histogram(
    "bookgraph_http_request_duration_seconds",
    "Time from request start to the last byte of the response.",
    ["path"],
)
EMBEDDING_CACHE = Counter(
    "bookgraph_embedding_cache",
    "Query embedding cache lookups, by result.",
    ["result"],
)
RECOMMENDATION_CACHE = Counter(
    "bookgraph_recommendation_cache_total",
    "Recommendation cache lookups and writes in Redis, by kind and outcome (hit, miss, error).",
    ["kind", "outcome"],
)
EMBEDDING_SECONDS = Histogram(
    "bookgraph_embedding_seconds",
    "Time to embed one search query (cache misses only).",
    buckets=(0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1.0),
)
GRAPHQL_ERRORS = Counter(
    "bookgraph_graphql_errors",
    "GraphQL errors returned to clients, by code.",
    ["code"],
)

KNOWN_PATHS = frozenset({"/graphql", "/healthz", "/readyz", "/metrics"})

# A client-supplied id is echoed only when it cannot be used to forge log lines.
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


def configure_logging(level: str = "INFO", json: bool = True) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_RequestIdFilter())
    if json:
        handler.setFormatter(
            JsonFormatter(
                "{asctime}{levelname}{name}{message}{request_id}",
                style="{",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


access_log = logging.getLogger("bookgraph.access")


GRAPHQL_OPERATIONS = Counter(
    "bookgraph_graphql_operations_total",
    "GraphQL operations by name (the trusted operations' names; others share one label) and outcome.",
    ["operation", "outcome"],
)
GRAPHQL_OPERATION_SECONDS = Histogram(
    "bookgraph_graphql_operation_seconds",
    "Time to execute a GraphQL operation, by name.",
    ["operation"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
# What the GraphQL view learned about the request (operation, viewer, outcome), for the access line.
REQUEST_FACTS: ContextVar[dict[str, object] | None] = ContextVar("request_facts", default=None)


class RequestContextMiddleware:
    """Gives every HTTP request an id (echoed as X-Request-ID), records its latency and logs it.

    The access line is written here rather than by uvicorn so that it carries the request id.
    """

    def __init__(self, app: ASGIApp, log_requests: bool = True) -> None:
        self.app = app
        self.log_requests = log_requests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        supplied = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        # 128 random bits as a uuid4's hex, from the process's generator (seeded from the OS): an id
        # must be unique, not secret, and os.urandom gives up the GIL to a store's thread mid-request.
        request_id = supplied if _SAFE_REQUEST_ID.match(supplied) else f"{random.getrandbits(128):032x}"
        token = REQUEST_ID.set(request_id)
        facts: dict[str, object] = {}
        facts_token = REQUEST_FACTS.set(facts)
        # Unknown paths share one label so a scanner cannot explode the metric's cardinality.
        path = scope["path"] if scope["path"] in KNOWN_PATHS else "other"
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if scope["type"] == "http":
                elapsed = time.perf_counter() - started
                HTTP_REQUESTS.labels(path, str(status)).inc()
                HTTP_LATENCY.labels(path).observe(elapsed)
                if self.log_requests:
                    access_log.info(
                        "%s %s %d",
                        scope["method"],
                        scope["path"],
                        status,
                        extra={
                            "request_id": request_id,
                            "status": status,
                            "duration_ms": round(elapsed * 1000, 2),
                            **facts,
                        },
                    )
            REQUEST_FACTS.reset(facts_token)
            REQUEST_ID.reset(token)
