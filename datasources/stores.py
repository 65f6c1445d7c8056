"""The long-lived connections to every store: opened once in the lifespan, closed on shutdown."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from sqlalchemy.ext.asyncio import AsyncEngine

from config import Settings
from datasources.base import create_engine, create_write_engine, ping
from datasources.inventory import rows as inventory
from datasources.migrate import upgrade
from datasources.orders import rows as orders
from datasources.search import open_index
from datasources.search.index import VectorIndex
from errors import SourceUnavailable

log = logging.getLogger(__name__)


def redis_client(url: str, timeout: float, name: str | None = None) -> Redis:
    """`name` is every connection's CLIENT SETNAME, so `CLIENT LIST` tells whose connections are
    whose when several deployments (or test runs) share one Redis."""
    # One quick retry, not the client's default of three with backoff up to seconds: Redis is a
    # cache and an event bus here, and a request must not wait long on it.
    retry = Retry(ExponentialBackoff(cap=0.05, base=0.01), retries=1)
    return Redis.from_url(
        url, socket_connect_timeout=timeout, socket_timeout=timeout, retry=retry, client_name=name
    )


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
    def open(cls, settings: Settings) -> Stores:
        if not (settings.inventory_database_url and settings.orders_database_url and settings.redis_url):
            raise ValueError("every store URL must be set; see embedded.with_embedded_stores")
        timeout = settings.store_connect_timeout_seconds
        return cls(
            inventory=create_engine(
                settings.inventory_database_url,
                inventory.STORE,
                pool_size=settings.pool_size,
                timeout=timeout,
            ),
            stock=create_write_engine(
                settings.inventory_database_url, inventory.STORE, timeout=max(timeout, 10.0)
            ),
            orders=create_engine(
                settings.orders_database_url, orders.STORE, pool_size=settings.pool_size, timeout=timeout
            ),
            redis=redis_client(settings.redis_url, timeout, redis_client_name(settings)),
            index=open_index(settings.qdrant_url, settings.data_dir),
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
        await self.inventory.dispose()
        await self.stock.dispose()
        await self.orders.dispose()
        await self.redis.aclose()
        await self.index.close()
