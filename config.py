"""The one typed settings object; nothing else reads the environment."""

from __future__ import annotations

import json
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from clock import Clock

ROOT = Path(__file__).resolve().parent

# Used only in development mode, so `make run` works with no configuration at all.
DEVELOPMENT_JWT_SECRET = "bookgraph-development-secret-do-not-use-in-production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Literal["development", "production", "test"] = "development"
    data_dir: Path = ROOT / "var"

    # Unset URL → the embedded store under data_dir (see datasources/embedded.py).
    inventory_database_url: str | None = None
    orders_database_url: str | None = None
    redis_url: str | None = None
    redis_key_prefix: str = "bookgraph:"
    # Unset → an in-process Qdrant Edge shard under data_dir/qdrant (one process only).
    qdrant_url: str | None = None

    # Bearer tokens (RFC 8725). Only the algorithms listed are accepted, each with its own key:
    # HS256 → jwt_secret; RS256/ES256 → jwt_public_key (PEM) or the jwt_jwks_url key named by `kid`.
    # JWT_ALGORITHMS takes a JSON list or a comma-separated one: `RS256,HS256`.
    # `bookgraph token` (and the tests, the bench) always issue HS256 with jwt_secret.
    jwt_algorithms: Annotated[list[Literal["HS256", "RS256", "ES256"]], NoDecode] = ["HS256"]
    jwt_secret: SecretStr = SecretStr(DEVELOPMENT_JWT_SECRET)
    jwt_public_key: SecretStr | None = None
    jwt_jwks_url: str | None = None
    jwt_jwks_cache_seconds: int = Field(default=300, ge=1, le=86_400)
    jwt_issuer: str = "bookgraph"
    # Checked when set: a token must name it in `aud`. Unset → tokens carrying an `aud` are refused.
    jwt_audience: str | None = None
    # Bounded clock skew between the token issuer and this server.
    jwt_leeway_seconds: int = Field(default=30, ge=0, le=120)
    token_ttl_seconds: int = 7 * 24 * 3600
    # The longest lifetime (`exp` minus `iat`) a token may have; longer ones are refused.
    jwt_max_lifetime_seconds: int = Field(default=7 * 24 * 3600, ge=60)

    low_stock_threshold: int = Field(default=5, ge=0)
    # Checkout: the most copies of one book in one order line.
    max_line_quantity: int = Field(default=50, ge=1, le=10_000)
    # The worker completes or compensates checkouts left PENDING longer than this.
    recovery_after_seconds: float = Field(default=10.0, gt=0)
    recovery_interval_seconds: float = Field(default=15.0, gt=0)
    # How often search changes still pending in the inventory (search store down, a process gone
    # between commit and index write) are looked for: by the API process over an embedded index,
    # by the worker over a Qdrant server (indexing.IndexFollower).
    index_follow_interval_seconds: float = Field(default=10.0, gt=0)
    # A first start over an embedded index embeds the books never indexed in the background, at
    # once; false leaves them to `bookgraph index` (a benchmark, or a machine measured while it runs).
    embed_on_start: bool = True
    # Tests arm these to fail or kill -9 a process at a named checkout step, e.g.
    # FAULT_POINTS='{"after_reserve": "kill"}'. Refused in production.
    fault_points: dict[str, Literal["kill", "error"]] = {}
    # Tests move the server's clock with this (CLOCK_OFFSET_SECONDS=157788000: five years ahead) to
    # run every time-dependent path on another day. Refused in production.
    clock_offset_seconds: float = 0.0

    # Deadlines: a slow store must fail fast so it costs only its own fields. Connecting to a store
    # and waiting for a pooled connection, each statement the server sends a database (batch
    # commands have none), and every Redis command. Past one, the store's circuit breaker fails
    # its calls at once, and lets one through after `store_retry_after_seconds` (doubling, up to
    # 30 s, while it still does not answer).
    store_connect_timeout_seconds: float = Field(default=3.0, gt=0)
    store_statement_timeout_seconds: float = Field(default=5.0, gt=0)
    redis_timeout_seconds: float = Field(default=0.5, gt=0)
    store_retry_after_seconds: float = Field(default=1.0, gt=0)
    # Connections each process keeps per database (and as many again, opened and closed beyond it).
    # Keep it above the requests one process runs at once: past it, every request pays for a new
    # connection and its prepared statements (README, Performance: 10 → 20 took the comparison with
    # PostGraphile at 16 connections from 295 to 345 req/s and its p99 from 379 to 102 ms).
    pool_size: int = 20

    # Recommendations: how long Redis keeps an answer, the HYBRID blend, how fast TRENDING forgets,
    # and how often the worker recomputes co-purchase neighbours and trending lists.
    recs_ttl_seconds: int = Field(default=600, ge=1)
    recs_weight_content: float = Field(default=0.3, ge=0)
    recs_weight_co_purchase: float = Field(default=0.5, ge=0)
    recs_weight_trending: float = Field(default=0.2, ge=0)
    recs_weight_genres: float = Field(default=0.0, ge=0)
    trending_half_life_days: float = Field(default=7.0, gt=0)
    recs_rebuild_interval_seconds: float = Field(default=900.0, gt=0)

    # Persisted queries: "apq" (Apollo's automatic persisted queries, documents shared in Redis),
    # "allowlist" (only the operations of gql/operations/manifest.json, for the roles listed in
    # persisted_queries_enforced_for; the others may send any query), or "off".
    persisted_queries: Literal["off", "apq", "allowlist"] = "apq"
    # Known queries run from a plan made once (execution/plans.py); off: every one through Strawberry.
    compiled_execution: bool = True
    # The general path (what no plan serves) reads plain attribute fields inline (schema/inline.py).
    inline_fields: bool = True
    persisted_queries_enforced_for: Annotated[
        list[Literal["anonymous", "customer", "partner", "admin"]], NoDecode
    ] = [
        "anonymous",
        "customer",
    ]
    apq_ttl_seconds: int = Field(default=30 * 24 * 3600, ge=60)

    # Who may introspect the schema (and see "Did you mean …" hints): unset means every role in
    # development, partners and admins elsewhere.
    introspection_for: Annotated[
        list[Literal["anonymous", "customer", "partner", "admin"]] | None, NoDecode
    ] = None
    # New APQ documents a client (token subject, or address) may register in a day.
    apq_registrations_per_client: int = Field(default=200, ge=1)
    # Live operations: at most this many at once on one WebSocket, and this many subscriptions per
    # client (token subject, or address when anonymous) in one server process.
    subscriptions_per_connection: int = Field(default=20, ge=1)
    subscriptions_per_client: int = Field(default=50, ge=1)
    # Slow clients: a request's headers must arrive within this many seconds of its first byte (or
    # of the connection), and each part of its body within the second figure.
    request_header_timeout_seconds: float = Field(default=10.0, gt=0)
    request_body_timeout_seconds: float = Field(default=15.0, gt=0)
    # The largest request body accepted (a query with its variables), in bytes.
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    # The longest string a query or its variables may carry (no field takes more text than this).
    max_string_length: int = Field(default=10_000, ge=100)
    # The longest query text, in characters (comments and whitespace included).
    max_query_length: int = Field(default=20_000, ge=1000)
    # Limits checked before execution, and each client's cost budget (a leaky bucket in Redis:
    # `cost_bucket_size` points, refilled at `cost_restore_rate` points a second).
    max_query_depth: int = Field(default=15, ge=2)
    max_query_aliases: int = Field(default=30, ge=0)
    max_query_directives: int = Field(default=5, ge=0)
    max_query_tokens: int = Field(default=2000, ge=100)
    max_query_cost: int = Field(default=5000, ge=1)
    # What a list without a `first` argument (an order's lines, a book's authors) is priced at.
    cost_list_size: int = Field(default=5, ge=1)
    cost_bucket_size: int = Field(default=10_000, ge=1)
    cost_restore_rate: float = Field(default=500.0, gt=0)
    # Several operations in one HTTP request (a JSON array): off unless this is above 0.
    http_batch_max: int = Field(default=0, ge=0, le=50)

    # On SIGTERM: stop accepting, let requests in flight finish for at most this long, then close
    # what is left (subscriptions get a WebSocket close and reconnect elsewhere).
    shutdown_timeout_seconds: float = Field(default=20.0, gt=0)

    # Load the embedding model before reporting ready (else on the first search).
    preload_model: bool = True
    # Where the model runs: the CPU; "cuda" for a GPU (a catalog that outgrows the CPU's indexing
    # speed); "auto" for the GPU when torch sees one, else the CPU.
    embedding_device: Literal["cpu", "cuda", "auto"] = "cpu"

    # OpenTelemetry: "none" (default), "console", or "otlp" (OTLP over HTTP to OTEL_ENDPOINT,
    # e.g. http://collector:4318/v1/traces; unset: the exporter's own default).
    otel_exporter: Literal["none", "console", "otlp"] = "none"
    otel_endpoint: str | None = None

    # Browsers on other origins (HTTP CORS and the WebSocket handshake alike): unset means any
    # localhost origin in development and none elsewhere; `*` allows every origin.
    cors_allow_origins: Annotated[list[str] | None, NoDecode] = None
    cors_allow_credentials: bool = False
    cors_max_age_seconds: int = Field(default=600, ge=0)
    cors_expose_headers: Annotated[list[str], NoDecode] = ["X-Request-ID", "Retry-After"]

    log_level: str = "INFO"
    log_json: bool = True
    access_log: bool = True
    # GraphiQL at /graphql for browsers: unset means in development only.
    graphiql: bool | None = None
    # /metrics: open in development and tests; elsewhere only with `Authorization: Bearer <this>`
    # (unset: not served at all, so a public port never shows the operations and their timings).
    metrics_token: SecretStr | None = None

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        # Socket paths built from it (the embedded PostgreSQL) must not be read as host names.
        return value.expanduser().resolve()

    @field_validator(
        "jwt_algorithms",
        "introspection_for",
        "persisted_queries_enforced_for",
        "cors_allow_origins",
        "cors_expose_headers",
        mode="before",
    )
    @classmethod
    def _list(cls, value: Any) -> Any:
        """Every list setting takes a JSON list or a comma-separated one: `partner,admin`."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @model_validator(mode="after")
    def _refuse_weak_secrets_outside_development(self) -> Settings:
        development = self.environment == "development"
        algorithms = set(self.jwt_algorithms)
        secret = self.jwt_secret.get_secret_value()
        public_key = self.jwt_public_key.get_secret_value().strip() if self.jwt_public_key else ""
        if not algorithms and not development:
            raise ValueError("JWT_ALGORITHMS must list at least one of HS256, RS256, ES256")
        if "HS256" in algorithms:
            if not secret:
                raise ValueError("JWT_SECRET must be set when JWT_ALGORITHMS allows HS256")
            if not development and len(secret.encode()) < 32:
                raise ValueError(
                    "JWT_SECRET must be at least 32 random bytes when JWT_ALGORITHMS allows HS256 "
                    "(shorter secrets are accepted in development only)"
                )
            if self.environment == "production" and secret == DEVELOPMENT_JWT_SECRET:
                raise ValueError("JWT_SECRET must be set to at least 32 random bytes in production")
            if public_key and secret.strip() == public_key:
                raise ValueError("JWT_SECRET must not be the public key")
        if public_key and ("PRIVATE KEY" in public_key or not public_key.startswith("-----BEGIN")):
            raise ValueError("JWT_PUBLIC_KEY must be a PEM public key (-----BEGIN PUBLIC KEY-----)")
        asymmetric = sorted(algorithms & {"RS256", "ES256"})
        if asymmetric and not development and not (public_key or self.jwt_jwks_url):
            raise ValueError(
                f"JWT_ALGORITHMS allows {', '.join(asymmetric)}: "
                "set JWT_PUBLIC_KEY (PEM) or JWT_JWKS_URL to verify those tokens"
            )
        if self.jwt_jwks_url:
            url = urlsplit(self.jwt_jwks_url)
            if url.scheme not in ("https", "http") or not url.hostname:
                raise ValueError("JWT_JWKS_URL must be an http(s) URL")
            if self.environment == "production" and url.scheme != "https":
                raise ValueError("JWT_JWKS_URL must use https in production")
        if self.environment == "production" and self.fault_points:
            raise ValueError("FAULT_POINTS is for tests; it cannot be set in production")
        if self.environment == "production" and self.clock_offset_seconds:
            raise ValueError("CLOCK_OFFSET_SECONDS is for tests; it cannot be set in production")
        return self

    def may_introspect(self, role: str) -> bool:
        if self.introspection_for is None:
            return self.environment == "development" or role in ("partner", "admin")
        return role in self.introspection_for

    @property
    def serves_graphiql(self) -> bool:
        return self.graphiql if self.graphiql is not None else self.environment == "development"

    @property
    def clock(self) -> Clock:
        return Clock(timedelta(seconds=self.clock_offset_seconds))

    @property
    def inventory_path(self) -> Path:
        return self.data_dir / "inventory.db"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
