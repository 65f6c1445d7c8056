"""What the tests share besides fixtures: clients of the app (HTTP, WebSocket, a server process),
tokens, statement counters, private stores. Imported by tests as `support`; fixtures live in conftest."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import asyncpg
import httpx
import pytest
import sqlalchemy as sa
from httpx_ws import AsyncWebSocketSession, aconnect_ws
from httpx_ws.transport import ASGIWebSocketTransport
from prometheus_client import REGISTRY
from starlette.applications import Starlette

from auth.tokens import issue_token
from auth.viewer import Role
from config import Settings
from datasources.stores import Stores
from schema.relay import to_global_id

PG_HOST, PG_PORT, REDIS_PORT = "127.0.0.1", 5432, 6379


RUN_ID = uuid.uuid4().hex[:10]


# A small demo catalog keeps the session fast while still spanning every genre.
SEED = {"books": 400, "customers": 40, "orders": 600, "seed": 7}


def answers(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((PG_HOST, port)) == 0


@asynccontextmanager
async def private_database(name: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """A PostgreSQL database of this run's own (dropped afterwards), or an embedded server's."""
    if not answers(PG_PORT):
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


@asynccontextmanager
async def app_with(settings: Settings, stores: Stores, **changes: Any) -> AsyncIterator[Starlette]:
    """An app of its own on `stores` with some settings changed, under a Redis key prefix of its own
    (so budgets, caches and counters start empty), running its lifespan."""
    from app import create_app

    prefix = f"{settings.redis_key_prefix}{uuid.uuid4().hex[:8]}:"
    application = create_app(
        settings.model_copy(update={"redis_key_prefix": prefix, **changes}), stores=stores
    )
    async with application.router.lifespan_context(application):
        yield application


def http_to(application: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url="http://bookgraph.test")


def token_for(settings: Settings, subject: str, role: Role = Role.CUSTOMER, **claims: Any) -> str:
    return issue_token(settings, subject, role=role, **claims)


class GraphQLClient:
    def __init__(self, http: httpx.AsyncClient, settings: Settings) -> None:
        self.http = http
        self.settings = settings

    async def post(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        as_: str | None = None,
        role: Role = Role.CUSTOMER,
        **claims: Any,
    ) -> httpx.Response:
        """The response as it came, whatever its status (`as_`: the subject signed in, if any)."""
        headers = {}
        if as_ is not None:
            headers["Authorization"] = f"Bearer {token_for(self.settings, as_, role, **claims)}"
        return await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )

    async def __call__(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        as_: str | None = None,
        role: Role = Role.CUSTOMER,
        **claims: Any,
    ) -> dict[str, Any]:
        response = await self.post(query, variables, as_=as_, role=role, **claims)
        # 400: refused before execution (unparsable, invalid, not allowed), with the errors in the body.
        assert response.status_code == 200 or (response.status_code == 400 and "errors" in response.json()), (
            response.text
        )
        body: dict[str, Any] = response.json()
        return body


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
        # Several processes share the machine's PostgreSQL with the suite: connections of 10 each.
        "POOL_SIZE": "10",
        **env,
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def until_healthy(
    url: str, exited: Callable[[], bool], why: Callable[[], str] | None = None, within_seconds: float = 60.0
) -> None:
    """Wait for a server process to answer /healthz; a process that exits first is an error."""
    deadline = time.monotonic() + within_seconds
    async with httpx.AsyncClient(base_url=url) as http:
        while time.monotonic() < deadline:
            if exited():
                raise RuntimeError(f"server exited: {why() if why else ''}")
            try:
                if (await http.get("/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise TimeoutError(f"{url} did not start")


@asynccontextmanager
async def bookgraph_serve(
    environment: dict[str, str], *args: str, start_seconds: float = 60.0
) -> AsyncIterator[tuple[asyncio.subprocess.Process, int]]:
    """`bookgraph serve` itself (the command, its protocol and signal handling) on a free port, once
    it answers; terminated afterwards unless the test ended it."""
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cli", "serve", "--port", str(port), *args,
        cwd=ROOT, env=environment, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        await until_healthy(
            f"http://127.0.0.1:{port}", lambda: process.returncode is not None, within_seconds=start_seconds
        )
        yield process, port
    finally:
        if process.returncode is None:
            process.terminate()
            await asyncio.wait_for(process.wait(), 30)


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
        await until_healthy(self.url, lambda: self.process.poll() is not None, self.log_tail)
        return self

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log_file.close()


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
        return await GraphQLClient(self.http, self.settings)(query, variables, as_=subject, role=role)

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
async def connect(app: Starlette, token: str | None = None) -> AsyncIterator[Socket]:
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


class DrawnQueries:
    """Random documents over the orders graph: subsets of fields, aliases, inline and named
    fragments, `__typename`, `@skip`/`@include` on a variable, nested pages under an order's
    customer, and now and then a book by `node(id:)`. Drawn with a fixed seed, so a failure names
    its document."""

    SCALARS: ClassVar[dict[str, list[str]]] = {
        "Customer": ["id", "name", "email", "createdAt"],
        "Order": ["id", "number", "status", "placedAt"],
        "OrderLine": ["bookId", "quantity"],
        "OrderEvent": ["fromStatus", "toStatus", "occurredAt", "note"],
        "Money": ["amount", "currency"],
        "Book": ["id", "isbn", "title", "publishedYear", "genres"],
        "Author": ["id", "name"],
        "Stock": ["onHand", "reserved", "available", "status"],
        "PageInfo": ["hasNextPage", "hasPreviousPage", "startCursor", "endCursor"],
    }
    OBJECTS: ClassVar[dict[str, list[tuple[str, str]]]] = {
        "Order": [
            ("total", "Money"),
            ("customer", "Customer"),
            ("lines", "OrderLine"),
            ("events", "OrderEvent"),
        ],
        "OrderLine": [("unitPrice", "Money"), ("subtotal", "Money"), ("book", "Book")],
        "Book": [("price", "Money"), ("authors", "Author"), ("stock", "Stock")],
    }

    def __init__(self, seed: int) -> None:
        import random

        self.random = random.Random(seed)
        self.fragments: dict[str, tuple[str, str]] = {}
        self.aliases = 0
        self.flagged = False

    def document(self) -> str:
        self.fragments = {}
        self.flagged = False
        body = f"viewer {{ {self.selection('Customer', depth=0)} }}"
        if self.random.random() < 0.4:  # a book by its global ID, beside the viewer
            book_id = to_global_id("Book", self.random.randint(1, 50))
            book = self.selection("Book", depth=1)
            body += (
                f' node(id: "{book_id}") {{ __typename ... on Order {{ number }} ... on Book {{ {book} }} }}'
            )
        fragments = "".join(
            f" fragment {name} on {on} {{ {sel} }}" for name, (on, sel) in self.fragments.items()
        )
        variables = "($flag: Boolean!)" if self.flagged else ""
        return f"query Drawn{variables} {{ {body} }}{fragments}"

    def selection(self, type_name: str, depth: int) -> str:
        r = self.random
        fields = [f for f in self.SCALARS.get(type_name, []) if r.random() < 0.5]
        parts = [self.aliased(f) for f in fields]
        for name, child in self.OBJECTS.get(type_name, []):
            if r.random() < 0.5 and not (child == "Customer" and depth > 3):
                parts.append(f"{self.aliased(name)} {{ {self.selection(child, depth + 1)} }}")
        if type_name == "Customer" and depth <= 3 and (depth == 0 or r.random() < 0.4):
            parts.append(self.page(depth))
        if r.random() < 0.3:
            parts.append("__typename")
        if not parts:
            parts.append(self.SCALARS.get(type_name, ["__typename"])[0])
        r.shuffle(parts)
        plain = [i for i, part in enumerate(parts) if part.isidentifier()]
        if len(parts) > 1 and plain and r.random() < 0.3:  # a directive on a scalar among them
            directive = r.choice(["@include(if: $flag)", "@skip(if: $flag)"])
            parts[plain[0]] += f" {directive}"
            self.flagged = True
        if len(parts) > 1 and r.random() < 0.2:
            parts[-1] = f"... on {type_name} {{ {parts[-1]} }}"
        if len(parts) > 1 and r.random() < 0.2:
            name = f"F{len(self.fragments)}x{depth}"
            self.fragments[name] = (type_name, parts.pop())
            parts.append(f"...{name}")
        return " ".join(parts)

    def page(self, depth: int) -> str:
        r = self.random
        arguments = [f"first: {r.choice([0, 1, 3, 20])}"]
        if r.random() < 0.3:
            arguments.append(
                "status: [" + ", ".join(r.sample(["DELIVERED", "SHIPPED", "CONFIRMED", "CANCELLED"], 2)) + "]"
            )
        parts = []
        if r.random() < 0.8:
            edge = [f"node {{ {self.selection('Order', depth + 1)} }}"]
            if r.random() < 0.5:
                edge.append("cursor")
            parts.append(f"edges {{ {' '.join(edge)} }}")
        if r.random() < 0.5:
            parts.append(f"pageInfo {{ {self.selection('PageInfo', depth + 1)} }}")
        if r.random() < 0.4 or not parts:
            parts.append("totalCount")
        return f"{self.aliased('orders')}({', '.join(arguments)}) {{ {' '.join(parts)} }}"

    def aliased(self, name: str) -> str:
        if self.random.random() < 0.2:
            self.aliases += 1
            return f"a{self.aliases}: {name}"
        return name


def comparable(body: dict[str, Any]) -> dict[str, Any]:
    """A response body as two paths or two requests must agree on: without the cost budget's
    balance (it moves between requests) and errors' request ids."""
    extensions = dict(body.get("extensions") or {})
    cost = dict(extensions.get("cost") or {})
    cost.pop("throttleStatus", None)
    errors = [
        {**e, "extensions": {k: v for k, v in (e.get("extensions") or {}).items() if k != "requestId"}}
        for e in body.get("errors") or []
    ]
    return {**body, "extensions": {**extensions, "cost": cost}, "errors": errors}
