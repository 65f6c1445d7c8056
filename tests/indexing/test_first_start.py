"""A first start serves before its catalog is embedded: the books never indexed are embedded in the
background, `/readyz` says how far it has come, and `searchBooks` answers from the books indexed so
far while saying the index is incomplete, until it is not."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from support import http_to, private_database

from config import Settings
from datasources.stores import Stores

SEARCH = '{ searchBooks(query: "a story", first: 3) { edges { node { id } } } }'


@asynccontextmanager
async def _first_start(
    settings: Settings, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, books: int, **update: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """A server started on stores of its own, with `books` never indexed."""
    from app import create_app
    from ingest.seeding import seed_demo

    async with private_database(f"first_start_{books}", tmp_path_factory) as orders_url:
        own = settings.model_copy(
            update={
                "data_dir": tmp_path,
                "inventory_database_url": f"sqlite+aiosqlite:///{tmp_path / 'inventory.db'}",
                "orders_database_url": orders_url,
                "preload_model": False,
                **update,
            }
        )
        stores = Stores.open(own)
        try:
            await stores.migrate()
            await seed_demo(stores, books=books, customers=3, orders=5, seed=5, now=settings.clock.now())
            application = create_app(own, stores=stores)
            async with application.router.lifespan_context(application), http_to(application) as http:
                yield http
        finally:
            await stores.close()


async def test_search_answers_while_the_catalog_is_embedded_and_says_so(
    settings: Settings, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    async with _first_start(settings, tmp_path, tmp_path_factory, books=40) as http:
        # At once: nothing is indexed yet, and the server answers all the same.
        ready = (await http.get("/readyz")).json()
        assert ready["status"] == "ready" and ready["stores"]["search"] == "indexing 0/40"
        body = await _search(http)
        assert body["extensions"]["searchIndex"] == {"complete": False, "indexedBooks": 0, "books": 40}
        assert "errors" not in body

        deadline = time.monotonic() + 120
        while (await http.get("/readyz")).json()["stores"]["search"] != "ok":
            assert time.monotonic() < deadline, "the catalog was not indexed in the background"
            await asyncio.sleep(0.2)
        body = await _search(http)
        assert "searchIndex" not in body["extensions"]
        assert len(body["data"]["searchBooks"]["edges"]) == 3


async def _search(http: httpx.AsyncClient) -> dict[str, Any]:
    response = await http.post("/graphql", json={"query": SEARCH})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize("embed_on_start", [True, False])
async def test_embed_on_start_false_leaves_a_catalog_never_indexed_to_bookgraph_index(
    settings: Settings,
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    embed_on_start: bool,
) -> None:
    """A benchmark (or a machine measured while it runs) must not embed a catalog in the
    background: the follower's first pass then waits for its interval, as on an indexed catalog."""
    from ingest.indexing import IndexFollower

    passes: list[bool] = []

    async def run(self: IndexFollower, interval: float, *, now: bool = False) -> None:
        passes.append(now)

    monkeypatch.setattr(IndexFollower, "run", run)
    async with _first_start(
        settings, tmp_path, tmp_path_factory, books=5, embed_on_start=embed_on_start
    ) as http:
        assert (await http.get("/readyz")).json()["stores"]["search"] == "indexing 0/5"
    assert passes == [embed_on_start]
