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

    # Connection budgets: a slow store must fail fast so it costs only its own fields.
    store_connect_timeout_seconds: float = 3.0
    pool_size: int = 10

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
        return self

    @property
    def inventory_path(self) -> Path:
        return self.data_dir / "inventory.db"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
