"""The one typed settings object; nothing else reads the environment."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent

# Used only in development mode, so `make run` works with no configuration at all.
DEVELOPMENT_JWT_SECRET = "bookgraph-development-secret-do-not-use-in-production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Literal["development", "production", "test"] = "development"
    data_dir: Path = ROOT / "var"

    # Unset URL → the embedded store under data_dir (see embedded.py).
    inventory_database_url: str | None = None
    orders_database_url: str | None = None
    redis_url: str | None = None
    redis_key_prefix: str = "bookgraph:"
    # Unset → an in-process Qdrant Edge shard under data_dir/qdrant (one process only).
    qdrant_url: str | None = None

    jwt_secret: SecretStr = SecretStr(DEVELOPMENT_JWT_SECRET)
    jwt_algorithm: Literal["HS256"] = "HS256"
    jwt_issuer: str = "bookgraph"
    token_ttl_seconds: int = 7 * 24 * 3600

    low_stock_threshold: int = Field(default=5, ge=0)
    # Checkout: the most copies of one book in one order line.
    max_line_quantity: int = Field(default=50, ge=1, le=10_000)
    # The worker completes or compensates checkouts left PENDING longer than this.
    recovery_after_seconds: float = Field(default=10.0, gt=0)
    recovery_interval_seconds: float = Field(default=15.0, gt=0)
    # Tests arm these to fail or kill -9 a process at a named checkout step, e.g.
    # FAULT_POINTS='{"after_reserve": "kill"}'. Refused in production.
    fault_points: dict[str, Literal["kill", "error"]] = {}

    # Connection budgets: a slow store must fail fast so it costs only its own fields.
    store_connect_timeout_seconds: float = 3.0
    pool_size: int = 10

    # Recommendations: how long Redis keeps an answer, the HYBRID blend, how fast TRENDING forgets,
    # and how often the worker recomputes co-purchase neighbours and trending lists.
    recs_ttl_seconds: int = Field(default=600, ge=1)
    recs_weight_content: float = Field(default=0.3, ge=0)
    recs_weight_co_purchase: float = Field(default=0.5, ge=0)
    recs_weight_trending: float = Field(default=0.2, ge=0)
    trending_half_life_days: float = Field(default=7.0, gt=0)
    recs_rebuild_interval_seconds: float = Field(default=900.0, gt=0)

    # Load the embedding model before reporting ready (else on the first search).
    preload_model: bool = True

    log_level: str = "INFO"
    log_json: bool = True
    access_log: bool = True
    graphiql: bool = True

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        # Socket paths built from it (the embedded PostgreSQL) must not be read as host names.
        return value.expanduser().resolve()

    @model_validator(mode="after")
    def _refuse_weak_secrets_outside_development(self) -> Settings:
        secret = self.jwt_secret.get_secret_value()
        if self.environment == "production" and (
            secret == DEVELOPMENT_JWT_SECRET or len(secret.encode()) < 32
        ):
            raise ValueError("JWT_SECRET must be set to at least 32 random bytes in production")
        if self.environment == "production" and self.fault_points:
            raise ValueError("FAULT_POINTS is for tests; it cannot be set in production")
        return self

    @property
    def inventory_path(self) -> Path:
        return self.data_dir / "inventory.db"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
