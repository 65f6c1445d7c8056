"""Operability: health, readiness, request ids, masked errors, and a store that is down."""

from __future__ import annotations

import dataclasses
import logging
import socket
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from support import error_codes

from app import create_app
from config import Settings
from datasources.inventory.source import InventorySource
from datasources.stores import Stores, redis_client
from gateway.graphiql import GraphiQL


async def test_healthz_and_readyz(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ready",
        "stores": {"inventory": "ok", "orders": "ok", "redis": "ok", "search": "ok"},
    }


async def test_request_id_is_echoed_or_made_and_logged(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="bookgraph.access"):
        given = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    [line] = [r for r in caplog.records if r.name == "bookgraph.access"]
    assert line.getMessage() == "GET /healthz 200"
    assert line.request_id == "abc-123" and line.duration_ms >= 0  # type: ignore[attr-defined]
    forged = await client.get("/healthz", headers={"X-Request-ID": "evil\nline"})
    assert forged.headers["x-request-id"] != "evil\nline" and len(forged.headers["x-request-id"]) == 32


async def test_graphiql_is_served_to_browsers(client: httpx.AsyncClient) -> None:
    page = await client.get("/graphql", headers={"Accept": "text/html"})
    # Unbuilt (no npm), the page says how to build it; tests/gateway/test_graphiql.py checks the rest.
    assert page.status_code == (200 if GraphiQL.load().built else 503) and "graphiql" in page.text.lower()


async def test_malformed_and_invalid_queries_get_codes_not_500(client: httpx.AsyncClient) -> None:
    syntax = await client.post("/graphql", json={"query": "{ books(first: 5 { edges }"})
    assert syntax.status_code in (200, 400)
    assert error_codes(syntax.json()) == ["GRAPHQL_PARSE_FAILED"]

    unknown = await client.post("/graphql", json={"query": "{ books { edges { node { colour } } } }"})
    assert unknown.status_code in (200, 400)
    body = unknown.json()
    assert error_codes(body) == ["GRAPHQL_VALIDATION_FAILED"] and "colour" in body["errors"][0]["message"]

    not_json = await client.post("/graphql", content=b"{oops", headers={"Content-Type": "application/json"})
    assert 400 <= not_json.status_code < 500


async def test_unexpected_errors_are_masked_and_logged_with_request_id(
    gql: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(self: InventorySource) -> list[tuple[str, int]]:
        raise RuntimeError("secret detail: password=hunter2")

    monkeypatch.setattr(InventorySource, "list_genres", broken)
    with caplog.at_level(logging.ERROR, logger="bookgraph.errors"):
        body = await gql("{ genres { name } books(first: 1) { edges { node { title } } } }")
    error = body["errors"][0]
    assert error["message"] == "Internal server error."
    assert error["extensions"]["code"] == "INTERNAL" and len(error["extensions"]["requestId"]) == 32
    assert "hunter2" not in str(body)
    assert body["data"]["books"]["edges"], "the rest of the response is still served"
    assert any("hunter2" in (r.exc_text or "") or r.exc_info for r in caplog.records)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_store_that_is_down_costs_only_its_fields(settings: Settings, stores: Any) -> None:
    port = _closed_port()
    broken = settings.model_copy(
        update={
            "orders_database_url": f"postgresql+asyncpg://postgres@127.0.0.1:{port}/nothing",
            "store_connect_timeout_seconds": 1.0,
        }
    )
    application = create_app(broken)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            from support import token_for

            response = await http.post(
                "/graphql",
                json={"query": "{ books(first: 2) { edges { node { title } } } viewer { name } }"},
                headers={"Authorization": f"Bearer {token_for(broken, 'demo-customer-1')}"},
            )
            body = response.json()
            assert response.status_code == 200
            assert len(body["data"]["books"]["edges"]) == 2
            assert body["data"]["viewer"] is None
            assert error_codes(body) == ["SOURCE_UNAVAILABLE"]
            assert body["errors"][0]["extensions"]["store"] == "orders"

            # The process still serves everything else: ready for traffic, degraded, naming the store.
            ready = await http.get("/readyz")
            assert ready.status_code == 200 and ready.json()["status"] == "degraded"
            assert ready.json()["stores"]["orders"].startswith("unavailable")
            assert ready.json()["stores"]["inventory"] == "ok"


async def test_readiness_names_stores_and_keeps_driver_errors_in_the_log(
    settings: Settings, stores: Stores, caplog: pytest.LogCaptureFixture
) -> None:
    dead = redis_client("redis://127.0.0.1:1/0", 0.5)
    application = create_app(settings, stores=dataclasses.replace(stores, redis=dead))
    async with (
        application.router.lifespan_context(application),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url="http://x") as http,
    ):
        with caplog.at_level(logging.WARNING, logger="bookgraph"):
            ready = await http.get("/readyz")
    await dead.aclose()
    assert ready.json()["stores"]["redis"] == "unavailable"
    assert "127.0.0.1:1" not in ready.text and "Error" not in ready.text
    assert any(getattr(r, "store", None) == "redis" for r in caplog.records)


async def test_metrics_need_their_token_in_production(settings: Settings, stores: Stores) -> None:
    for token, expected in ((None, {None: 404}), ("m" * 32, {None: 404, "wrong": 404, "m" * 32: 200})):
        guarded = settings.model_copy(
            update={"environment": "production", "metrics_token": SecretStr(token) if token else None}
        )
        application = create_app(guarded, stores=stores)
        async with (
            application.router.lifespan_context(application),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url="http://x") as http,
        ):
            for given, status in expected.items():
                headers = {"Authorization": f"Bearer {given}"} if given else {}
                assert (await http.get("/metrics", headers=headers)).status_code == status, (token, given)
