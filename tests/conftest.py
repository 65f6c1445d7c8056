"""Real stores for the whole session: the PostgreSQL and Redis on 127.0.0.1 when they answer
(a private database and key prefix, removed afterwards), the embedded ones when not."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import sqlalchemy as sa
from httpx_ws import AsyncWebSocketSession, aconnect_ws
from httpx_ws.transport import ASGIWebSocketTransport
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


@asynccontextmanager
async def private_database(name: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """A PostgreSQL database of this run's own (dropped afterwards), or an embedded server's."""
    if not _answers(PG_PORT):
        from datasources.embedded import start_postgres

        yield start_postgres(tmp_path_factory.mktemp("postgres"), name)
        return
    database = f"bookgraph_{name}_{RUN_ID}"
    admin = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user="postgres", database="postgres")
    await admin.execute(f'CREATE DATABASE "{database}"')
    try:
        yield f"postgresql+asyncpg://postgres@{PG_HOST}:{PG_PORT}/{database}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await admin.close()


@pytest.fixture(scope="session")
async def orders_url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    async with private_database("test", tmp_path_factory) as url:
        yield url


@pytest.fixture(scope="session")
async def redis_url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    if not _answers(REDIS_PORT):
        from datasources.embedded import start_redis

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
        graphiql=True,  # on in development only by default; the suite checks it is served
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
    from indexing import build_index
    from seeding import seed_demo

    stores = Stores.open(settings)
    await stores.migrate()
    await seed_demo(stores, **SEED, now=settings.clock.now())
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


@asynccontextmanager
async def app_with(settings: Settings, stores: Stores, **changes: Any) -> AsyncIterator[Any]:
    """An app of its own on `stores` with some settings changed, under a Redis key prefix of its own
    (so budgets, caches and counters start empty), running its lifespan."""
    from app import create_app

    prefix = f"{settings.redis_key_prefix}{uuid.uuid4().hex[:8]}:"
    application = create_app(
        settings.model_copy(update={"redis_key_prefix": prefix, **changes}), stores=stores
    )
    async with application.router.lifespan_context(application):
        yield application


def http_to(application: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url="http://bookgraph.test")


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
        # 400: refused before execution (unparsable, invalid, not allowed), with the errors in the body.
        assert response.status_code == 200 or (response.status_code == 400 and "errors" in response.json()), (
            response.text
        )
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


def process_environment(settings: Settings, data_dir: Path, **env: str) -> dict[str, str]:
    """The environment of a bookgraph process (server, worker) on the stores of `settings`."""
    return {
        **os.environ,
        "ENVIRONMENT": "test",
        # Its own directory for the search shard, which one process opens at a time.
        "DATA_DIR": str(data_dir),
        "INVENTORY_DATABASE_URL": settings.inventory_database_url or "",
        "ORDERS_DATABASE_URL": settings.orders_database_url or "",
        "REDIS_URL": settings.redis_url or "",
        "REDIS_KEY_PREFIX": settings.redis_key_prefix,
        "PRELOAD_MODEL": "false",
        # Each process has an empty shard of its own: its background pass would embed every book
        # the others sell out. Changes made right after a commit are still applied.
        "INDEX_FOLLOW_INTERVAL_SECONDS": "3600",
        "ACCESS_LOG": "false",
        "LOG_JSON": "false",
        **env,
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ServerProcess:
    """`uvicorn app:app_from_environment` in a process of its own, on the session's stores.

    Its log goes to a file beside its data (`log_tail()` reads it): a pipe nobody drains would fill
    and stall a server that logs much."""

    def __init__(self, settings: Settings, data_dir: Path, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        environment = process_environment(settings, data_dir, **env)
        data_dir.mkdir(parents=True, exist_ok=True)
        self.log = data_dir / f"server-{self.port}.log"
        self._log_file = self.log.open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "app:app_from_environment",
                "--factory",
                "--port",
                str(self.port),
            ],
            cwd=ROOT,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=self._log_file,
        )

    def log_tail(self, size: int = 4000) -> str:
        return self.log.read_bytes()[-size:].decode(errors="replace")

    async def ready(self) -> ServerProcess:
        deadline = time.monotonic() + 60.0
        async with httpx.AsyncClient(base_url=self.url) as http:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"server exited: {self.log_tail()}")
                try:
                    if (await http.get("/healthz")).status_code == 200:
                        return self
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)
        raise TimeoutError(f"server on port {self.port} did not start")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log_file.close()


async def post_graphql(
    http: httpx.AsyncClient,
    settings: Settings,
    query: str,
    variables: dict[str, Any],
    subject: str | None,
    role: Role = Role.CUSTOMER,
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token_for(settings, subject, role)}"} if subject else {}
    response = await http.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@dataclass
class Shop:
    """A store of its own for checkout tests (they change stock and place orders), with an app."""

    settings: Settings
    stores: Stores
    http: httpx.AsyncClient
    book_ids: list[int]

    async def gql(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        subject: str | None = None,
        role: Role = Role.CUSTOMER,
    ) -> dict[str, Any]:
        return await post_graphql(self.http, self.settings, query, variables or {}, subject, role)

    async def stock(self, book_id: int) -> tuple[int, int]:
        """(on hand, reserved)."""
        async with self.stores.inventory.connect() as conn:
            row = (
                await conn.execute(
                    sa.text("SELECT on_hand, reserved FROM stock_levels WHERE book_id = :b"), {"b": book_id}
                )
            ).one()
            return row.on_hand, row.reserved

    async def set_available(self, book_id: int, available: int) -> None:
        async with self.stores.inventory.begin() as conn:
            await conn.execute(
                sa.text("UPDATE stock_levels SET on_hand = reserved + :n WHERE book_id = :b"),
                {"n": available, "b": book_id},
            )

    async def held(self, order_id: int) -> dict[int, int]:
        """book id → copies the order holds."""
        async with self.stores.inventory.connect() as conn:
            rows = await conn.execute(
                sa.text(
                    "SELECT book_id, quantity FROM stock_reservations WHERE order_id = :o AND status = 'HELD'"
                ),
                {"o": order_id},
            )
            return {r.book_id: r.quantity for r in rows}


@pytest.fixture(scope="session")
async def shop(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Shop]:
    from app import create_app
    from seeding import seed_demo

    async with private_database("shop", tmp_path_factory) as url:
        data_dir = tmp_path_factory.mktemp("shop")
        shop_settings = settings.model_copy(
            update={
                "data_dir": data_dir,
                "inventory_database_url": f"sqlite+aiosqlite:///{data_dir / 'inventory.db'}",
                "orders_database_url": url,
                "redis_key_prefix": f"{settings.redis_key_prefix}shop:",
                "preload_model": False,
            }
        )
        stores = Stores.open(shop_settings)
        try:
            await stores.migrate()
            await seed_demo(stores, books=60, customers=10, orders=40, seed=11, now=settings.clock.now())
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
    """A browser page's origin that the first of `servers` allows (CORS): tests/test_graphiql.py."""
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


# --- graphql-transport-ws in process ---------------------------------------------------------

PROTOCOL = "graphql-transport-ws"


class Socket:
    """A graphql-transport-ws client over one connection; each operation is read to its end."""

    def __init__(self, ws: AsyncWebSocketSession) -> None:
        self.ws = ws
        self.ids = 0

    async def receive(self) -> dict[str, Any]:
        # receive_text raises on a binary frame, as graphql-ws and GraphiQL refuse one.
        message: dict[str, Any] = json.loads(await self.ws.receive_text(timeout=20))
        return message

    async def operate(self, payload: dict[str, Any]) -> list[dict[str, Any]]:
        """Every message of one operation up to its `complete` or `error`."""
        self.ids += 1
        id = str(self.ids)
        await self.ws.send_text(json.dumps({"id": id, "type": "subscribe", "payload": payload}))
        messages = []
        while True:
            message = await self.receive()
            if message.get("id") != id:
                continue
            messages.append(message)
            if message["type"] in ("complete", "error"):
                return messages


@asynccontextmanager
async def connect(app: Any, token: str | None = None) -> AsyncIterator[Socket]:
    transport = ASGIWebSocketTransport(app=app)
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://bookgraph.test") as http,
        aconnect_ws("/graphql", http, subprotocols=[PROTOCOL]) as ws,
    ):
        socket = Socket(ws)
        init = {"Authorization": f"Bearer {token}"} if token else {}
        await ws.send_text(json.dumps({"type": "connection_init", "payload": init}))
        assert (await socket.receive())["type"] == "connection_ack"
        yield socket
