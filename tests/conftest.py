"""Real stores for the whole session: the PostgreSQL and Redis on 127.0.0.1 when they answer
(a private database and key prefix, removed afterwards), the embedded ones when not."""

from __future__ import annotations

import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from prometheus_client import REGISTRY
from redis.asyncio import Redis

from auth.tokens import issue_token
from auth.viewer import Role
from config import Settings
from datasources.stores import Stores
from embeddings import Embedder, get_embedder

PG_HOST, PG_PORT, REDIS_PORT = "127.0.0.1", 5432, 6379
RUN_ID = uuid.uuid4().hex[:10]

# A small demo catalog keeps the session fast while still spanning every genre.
SEED = {"books": 400, "customers": 40, "orders": 600, "seed": 7}


def _answers(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((PG_HOST, port)) == 0


@pytest.fixture(scope="session")
async def orders_url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    if not _answers(PG_PORT):
        from embedded import start_postgres

        yield start_postgres(tmp_path_factory.mktemp("postgres"))
        return
    name = f"bookgraph_test_{RUN_ID}"
    admin = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user="postgres", database="postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+asyncpg://postgres@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture(scope="session")
async def redis_url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    if not _answers(REDIS_PORT):
        from embedded import start_redis

        yield start_redis(tmp_path_factory.mktemp("redis") / "redis.db")
        return
    url = f"redis://{PG_HOST}:{REDIS_PORT}/0"
    yield url
    client = Redis.from_url(url)
    async for key in client.scan_iter(match=f"bookgraph-test-{RUN_ID}:*"):
        await client.delete(key)
    await client.aclose()


@pytest.fixture(scope="session")
def settings(orders_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    data_dir = tmp_path_factory.mktemp("var")
    return Settings(
        environment="test",
        data_dir=data_dir,
        inventory_database_url=f"sqlite+aiosqlite:///{data_dir / 'inventory.db'}",
        orders_database_url=orders_url,
        redis_url=redis_url,
        redis_key_prefix=f"bookgraph-test-{RUN_ID}:",
        log_json=False,
    )


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real model, loaded once for the session."""
    return get_embedder()


@pytest.fixture(scope="session")
async def stores(settings: Settings, embedder: Embedder) -> AsyncIterator[Stores]:
    from indexing import build_index
    from seeding import seed_demo

    stores = Stores.open(settings)
    await stores.migrate()
    await seed_demo(stores, **SEED)
    await build_index(stores.inventory, stores.index, embedder)
    yield stores
    await stores.close()


@pytest.fixture(scope="session")
async def app(settings: Settings, stores: Stores) -> AsyncIterator[Any]:
    from app import create_app

    # The session's stores are shared: an embedded Qdrant shard is opened by one owner at a time.
    application = create_app(settings, stores=stores)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture(scope="session")
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bookgraph.test") as http:
        yield http


def token_for(settings: Settings, subject: str, role: Role = Role.CUSTOMER, **claims: Any) -> str:
    return issue_token(settings, subject, role=role, **claims)


class GraphQLClient:
    def __init__(self, http: httpx.AsyncClient, settings: Settings) -> None:
        self.http = http
        self.settings = settings

    async def __call__(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        as_: str | None = None,
        role: Role = Role.CUSTOMER,
        **claims: Any,
    ) -> dict[str, Any]:
        headers = {}
        if as_ is not None:
            headers["Authorization"] = f"Bearer {token_for(self.settings, as_, role, **claims)}"
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture(scope="session")
def gql(client: httpx.AsyncClient, settings: Settings) -> GraphQLClient:
    return GraphQLClient(client, settings)


class StatementCounter:
    """Statements each store executed between two points, read from the Prometheus counter."""

    STORES = ("inventory", "orders")

    def __init__(self) -> None:
        self.start = self._read()

    @staticmethod
    def _read() -> dict[str, float]:
        return {
            store: REGISTRY.get_sample_value("bookgraph_store_statements_total", {"store": store}) or 0.0
            for store in StatementCounter.STORES
        }

    def delta(self) -> dict[str, int]:
        now = self._read()
        return {store: int(now[store] - self.start[store]) for store in self.STORES}


@pytest.fixture
def count_statements() -> Iterator[type[StatementCounter]]:
    yield StatementCounter


def error_codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


ROOT = Path(__file__).resolve().parent.parent
