"""Real stores for the whole session: the PostgreSQL and Redis on 127.0.0.1 when they answer
(a private database and key prefix, removed afterwards), the embedded ones when not."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import httpx
import pytest
import sqlalchemy as sa
from redis.asyncio import Redis
from starlette.applications import Starlette
from support import (
    PG_HOST,
    REDIS_PORT,
    RUN_ID,
    SEED,
    GraphQLClient,
    ServerProcess,
    Shop,
    StatementCounter,
    answers,
    free_port,
    private_database,
)

from config import Settings
from datasources.stores import Stores
from embeddings.model import Embedder, get_embedder


@pytest.fixture(scope="session")
async def orders_url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    async with private_database("test", tmp_path_factory) as url:
        yield url


@pytest.fixture(scope="session")
async def redis_url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    if not answers(REDIS_PORT):
        from datasources.embedded import start_redis

        yield start_redis(tmp_path_factory.mktemp("redis") / "redis.db")
        return
    url = f"redis://{PG_HOST}:{REDIS_PORT}/0"
    yield url
    client = Redis.from_url(url)
    async for key in client.scan_iter(match=f"bookgraph-test-{RUN_ID}:*"):
        await client.delete(key)
    await client.aclose()


@asynccontextmanager
async def inventory_database(name: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """The inventory on SQLite, or on a PostgreSQL database of its own when the run asks for it
    (TEST_INVENTORY_ENGINE=postgresql: what replicas sharing one inventory run on)."""
    if os.environ.get("TEST_INVENTORY_ENGINE", "sqlite") == "postgresql":
        async with private_database(f"{name}_inventory", tmp_path_factory) as url:
            yield url
    else:
        yield f"sqlite+aiosqlite:///{tmp_path_factory.mktemp(name) / 'inventory.db'}"


@pytest.fixture(scope="session")
async def inventory_url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    async with inventory_database("test", tmp_path_factory) as url:
        yield url


@pytest.fixture(scope="session")
def settings(
    orders_url: str, redis_url: str, inventory_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    data_dir = tmp_path_factory.mktemp("var")
    return Settings(
        environment="test",
        data_dir=data_dir,
        inventory_database_url=inventory_url,
        orders_database_url=orders_url,
        redis_url=redis_url,
        redis_key_prefix=f"bookgraph-test-{RUN_ID}:",
        log_json=False,
        graphiql=True,  # on in development only by default; the suite checks it is served
        # Many apps and server processes share the machine's PostgreSQL (max_connections 100).
        pool_size=5,
        # The suite sends thousands of queries from one address; the budget has tests of its own.
        cost_bucket_size=10_000_000,
        cost_restore_rate=1_000_000.0,
        # The background pass of index changes would add its statements to whatever request a
        # statement-count test is measuring; tests that exercise it shorten it for their own app.
        index_follow_interval_seconds=3600.0,
    )


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real model, loaded once for the session."""
    return get_embedder()


@pytest.fixture(scope="session")
async def stores(settings: Settings, embedder: Embedder) -> AsyncIterator[Stores]:
    from ingest.indexing import build_index
    from ingest.seeding import seed_demo

    stores = Stores.open(settings)
    await stores.migrate()
    await seed_demo(stores, **SEED, now=settings.clock.now())
    await build_index(stores.inventory, stores.index, embedder)
    yield stores
    await stores.close()


@pytest.fixture(scope="session")
async def app(settings: Settings, stores: Stores) -> AsyncIterator[Starlette]:
    from app import create_app

    # The session's stores are shared: an embedded Qdrant shard is opened by one owner at a time.
    application = create_app(settings, stores=stores)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture(scope="session")
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bookgraph.test") as http:
        yield http


@pytest.fixture(scope="session")
def gql(client: httpx.AsyncClient, settings: Settings) -> GraphQLClient:
    return GraphQLClient(client, settings)


@pytest.fixture(scope="session")
async def general_client(settings: Settings, stores: Stores) -> AsyncIterator[httpx.AsyncClient]:
    """The same app on the same stores with compiled execution off: every operation runs through
    Strawberry and the DataLoaders (the reference the plans are held to, and their fallback)."""
    from app import create_app

    application = create_app(settings.model_copy(update={"compiled_execution": False}), stores=stores)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://bookgraph.test") as http:
            yield http


@pytest.fixture(scope="session")
def general_gql(general_client: httpx.AsyncClient, settings: Settings) -> GraphQLClient:
    return GraphQLClient(general_client, settings)


@pytest.fixture
def count_statements() -> Iterator[type[StatementCounter]]:
    yield StatementCounter


@pytest.fixture(scope="session")
async def shop(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Shop]:
    from app import create_app
    from ingest.indexing import build_index
    from ingest.seeding import seed_demo

    async with (
        private_database("shop", tmp_path_factory) as url,
        inventory_database("shop", tmp_path_factory) as inventory,
    ):
        data_dir = tmp_path_factory.mktemp("shop")
        shop_settings = settings.model_copy(
            update={
                "data_dir": data_dir,
                "inventory_database_url": inventory,
                "orders_database_url": url,
                "redis_key_prefix": f"{settings.redis_key_prefix}shop:",
                "preload_model": False,
            }
        )
        stores = Stores.open(shop_settings)
        try:
            await stores.migrate()
            await seed_demo(stores, books=60, customers=10, orders=40, seed=11, now=settings.clock.now())
            # Indexed before its app starts, as the session's catalog is: a catalog never indexed
            # would be embedded in the background while tests count the shop's statements.
            await build_index(stores.inventory, stores.index, get_embedder())
            async with stores.inventory.connect() as conn:
                book_ids = list((await conn.execute(sa.text("SELECT id FROM books ORDER BY id"))).scalars())
            application = create_app(shop_settings, stores=stores)
            async with application.router.lifespan_context(application):
                transport = httpx.ASGITransport(app=application)
                async with httpx.AsyncClient(transport=transport, base_url="http://shop.test") as http:
                    yield Shop(shop_settings, stores, http, book_ids)
        finally:
            await stores.close()


@pytest.fixture(scope="session")
def page_origin() -> str:
    """A browser page's origin that the first of `servers` allows (CORS): tests/gateway/test_graphiql.py."""
    return f"http://localhost:{free_port()}"


@pytest.fixture(scope="session")
async def servers(
    shop: Shop, page_origin: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[list[ServerProcess]]:
    """Two more server processes beside the in-process app, sharing the shop's stores; the first
    serves GraphiQL and allows `page_origin`."""
    started = [
        ServerProcess(
            shop.settings,
            tmp_path_factory.mktemp("server"),
            GRAPHIQL="true",
            CORS_ALLOW_ORIGINS=page_origin,
        ),
        ServerProcess(shop.settings, tmp_path_factory.mktemp("server")),
    ]
    try:
        await asyncio.gather(*(server.ready() for server in started))
        yield started
    finally:
        for server in started:
            server.stop()
