"""The long-lived connections to every store: opened once in the lifespan, closed on shutdown."""

from __future__ import annotations

import asyncio
import functools
import logging
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError
from sqlalchemy.ext.asyncio import AsyncEngine

from config import Settings
from datasources.base import create_engine, create_write_engine, dispose, ping
from datasources.breaker import guard
from datasources.inventory import rows as inventory
from datasources.migrate import upgrade
from datasources.orders import rows as orders
from datasources.redis import STORE
from datasources.search import open_index
from datasources.search.index import VectorIndex
from errors import SourceUnavailable

log = logging.getLogger(__name__)


def redis_client(url: str, timeout: float, name: str | None = None, *, retry_after: float = 1.0) -> Redis:
    """`name` is every connection's CLIENT SETNAME, so `CLIENT LIST` tells whose connections are
    whose when several deployments (or test runs) share one Redis.

    Redis is a cache and an event bus here, and a request must not wait long on it: `timeout`
    bounds connecting and every command, and the client's circuit breaker fails its calls at once
    (each falls back as it would with Redis down) from the first that times out until Redis
    answers again."""
    # One quick retry, and only for a dropped connection (a Redis that restarted): a command that
    # timed out is not sent again, and the backoff is milliseconds, not the client's seconds.
    retry = Retry(ExponentialBackoff(cap=0.05, base=0.01), retries=1, supported_errors=(ConnectionError,))
    client = Redis.from_url(
        url, socket_connect_timeout=timeout, socket_timeout=timeout, retry=retry, client_name=name
    )
    guard(client, STORE, retry_after)
    return client


def redis_client_name(settings: Settings) -> str:
    """The key prefix names the deployment (a name holds no spaces)."""
    return "".join(c if c.isprintable() and not c.isspace() else "_" for c in settings.redis_key_prefix)


@dataclass(slots=True)
class Stores:
    inventory: AsyncEngine
    # The same inventory database, for stock movements (see create_write_engine).
    stock: AsyncEngine
    orders: AsyncEngine
    redis: Redis
    index: VectorIndex

    @classmethod
    def open(cls, settings: Settings, *, batch: bool = False) -> Stores:
        """The stores as the server uses them, with a deadline for every statement; `batch` for
        commands whose statements may run long (import, seeding, rebuilding recommendations)."""
        if not (settings.inventory_database_url and settings.orders_database_url and settings.redis_url):
            raise ValueError("every store URL must be set; see embedded.with_embedded_stores")
        timeout = settings.store_connect_timeout_seconds
        deadline = None if batch else settings.store_statement_timeout_seconds
        retry_after = settings.store_retry_after_seconds
        index = open_index(settings.qdrant_url, settings.data_dir)
        if settings.qdrant_url:  # a server can hang; the embedded shard answers or fails at once
            guard(index, "search", retry_after)
        engine = functools.partial(
            create_engine,
            pool_size=settings.pool_size,
            timeout=timeout,
            statement_timeout=deadline,
            retry_after=retry_after,
        )
        return cls(
            inventory=engine(settings.inventory_database_url, inventory.STORE),
            stock=create_write_engine(
                settings.inventory_database_url,
                inventory.STORE,
                timeout=max(timeout, 10.0),
                statement_timeout=deadline,
                retry_after=retry_after,
            ),
            orders=engine(settings.orders_database_url, orders.STORE),
            redis=redis_client(
                settings.redis_url,
                settings.redis_timeout_seconds,
                redis_client_name(settings),
                retry_after=retry_after,
            ),
            index=index,
        )

    async def migrate(self) -> None:
        await upgrade(self.inventory, "inventory")
        await upgrade(self.orders, "orders")
        try:
            await self.index.ensure_collection()
        except SourceUnavailable:
            # Down, or an embedded shard held by the running server: the databases are what a
            # migration must not skip; the collection is ensured again by start-up and indexing.
            log.warning("search collection not ensured: the search store is unavailable")

    async def readiness(self) -> dict[str, str | None]:
        """Each store's problem, or None when it answers."""

        async def check(name: str, probe: asyncio.Future[object] | object) -> tuple[str, str | None]:
            try:
                await asyncio.wait_for(probe, timeout=2.0)  # type: ignore[arg-type]
            except Exception as exc:
                return name, f"{type(exc).__name__}: {exc}"[:200]
            return name, None

        results = await asyncio.gather(
            check("inventory", ping(self.inventory, inventory.STORE)),
            check("orders", ping(self.orders, orders.STORE)),
            check("redis", self.redis.ping()),
            check("search", self.index.ping()),
        )
        return dict(results)

    async def close(self) -> None:
        await dispose(self.inventory)
        await dispose(self.stock)
        await dispose(self.orders)
        await self.redis.aclose()
        await self.index.close()
