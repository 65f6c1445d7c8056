"""GraphQL over HTTP as clients read it: media types, statuses, every refusal a coded GraphQL error,
methods and `Allow`, CORS for browsers on other origins (HTTP and the WebSocket handshake)."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from httpx_ws import WebSocketDisconnect, aconnect_ws
from httpx_ws.transport import ASGIWebSocketTransport
from support import token_for

from config import Settings
from datasources.stores import Stores
from gateway.media import GRAPHQL_RESPONSE, JSON, negotiate
from gateway.origins import Origins

INVALID = {"query": "{ nope }"}


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        (None, JSON),
        ("*/*", JSON),
        ("application/json", JSON),
        ("application/graphql-response+json", GRAPHQL_RESPONSE),
        ("application/graphql-response+json, application/json;q=0.9", GRAPHQL_RESPONSE),  # Apollo Client 4
        ("application/json, application/graphql-response+json;q=0.5", JSON),
        ("application/graphql-response+json;q=0", JSON),
        ("text/html", JSON),
    ],
)
def test_the_media_type_follows_accept(accept: str | None, media_type: str) -> None:
    assert negotiate(accept) == media_type


async def test_a_request_error_is_400_for_graphql_response_json_and_200_for_json(
    client: httpx.AsyncClient,
) -> None:
    modern = await client.post("/graphql", json=INVALID, headers={"Accept": GRAPHQL_RESPONSE})
    assert modern.status_code == 400 and modern.headers["content-type"] == GRAPHQL_RESPONSE
    legacy = await client.post("/graphql", json=INVALID, headers={"Accept": JSON})
    assert legacy.status_code == 200 and legacy.headers["content-type"] == JSON
    for response in (modern, legacy):
        body = response.json()
        # Nothing ran: no `data` entry at all.
        assert "data" not in body and body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    ok = await client.post(
        "/graphql", json={"query": "{ genres { name } }"}, headers={"Accept": GRAPHQL_RESPONSE}
    )
    assert ok.status_code == 200 and ok.json()["data"]["genres"]


REFUSALS: dict[str, tuple[dict[str, Any], int, str]] = {
    # name: (request, status, code)
    "not JSON": (
        {"content": b"{not json", "headers": {"Content-Type": "application/json"}},
        400,
        "BAD_REQUEST",
    ),
    "no query": ({"json": {"variables": {}}}, 400, "BAD_REQUEST"),
    "variables not an object": (
        {"json": {"query": "{ genres { name } }", "variables": [1]}},
        400,
        "BAD_REQUEST",
    ),
    "an unsupported content type": (
        {"content": b"query=1", "headers": {"Content-Type": "application/xml"}},
        400,
        "BAD_REQUEST",
    ),
    "a form, as a cross-site request forgery": (
        {"content": b'{"query": "{ genres { name } }"}', "headers": {"Content-Type": "text/plain"}},
        400,
        "BAD_REQUEST",
    ),
    "an unknown operationName": (
        {"json": {"query": "query A { genres { name } }", "operationName": "B"}},
        400,
        "BAD_REQUEST",
    ),
    "a batch when batching is off": ({"json": [{"query": "{ genres { name } }"}] * 2}, 400, "BAD_REQUEST"),
}


@pytest.mark.parametrize("name", list(REFUSALS))
async def test_every_refusal_is_a_coded_graphql_error(name: str, client: httpx.AsyncClient) -> None:
    request, status, code = REFUSALS[name]
    response = await client.post("/graphql", **request)
    assert response.status_code == status
    assert response.headers["content-type"] == JSON
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == code and error["message"]


async def test_methods_and_allow_agree(client: httpx.AsyncClient) -> None:
    for method in ("PUT", "DELETE", "PATCH", "HEAD"):
        response = await client.request(method, "/graphql")
        assert response.status_code == 405 and response.headers["allow"] == "GET, POST", method
        if method != "HEAD":
            assert response.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"
    # A mutation over GET is refused whatever its headers, and told where to go.
    mutation = await client.get(
        "/graphql", params={"query": 'mutation { cancelOrder(id: "x") { order { id } } }'}
    )
    assert mutation.status_code == 405 and mutation.headers["allow"] == "POST"
    assert mutation.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"


async def test_csrf_follows_apollo_servers_rule(client: httpx.AsyncClient) -> None:
    query = {"query": "{ genres { name } }"}
    # Apollo Client's GET requests (useGETForHashedQueries) carry Content-Type: application/json,
    # which a browser would preflight: safe.
    json_get = await client.get("/graphql", params=query, headers={"Content-Type": "application/json"})
    assert json_get.status_code == 200 and json_get.json()["data"]["genres"]
    # A bare GET, as an <img> or a link would send it, is not.
    bare = await client.get("/graphql", params=query, headers={"Accept": JSON})
    assert bare.status_code == 400 and "cross-site request forgery" in bare.json()["errors"][0]["message"]


def test_origins_in_development_and_elsewhere(settings: Settings) -> None:
    development = Origins.of(settings.model_copy(update={"environment": "development"}))
    assert development.allows("http://localhost:5173") and development.allows("http://127.0.0.1:3000")
    assert not development.allows("https://localhost.evil.example") and not development.allows(
        "https://shop.example"
    )
    elsewhere = Origins.of(settings)
    assert not elsewhere.allows("http://localhost:5173")
    configured = Origins.of(settings.model_copy(update={"cors_allow_origins": ["https://shop.example/"]}))
    assert configured.allows("https://shop.example") and not configured.allows("https://other.example")


@pytest.fixture(scope="module")
async def storefront(settings: Settings, stores: Stores) -> AsyncIterator[Any]:
    """Browsers on https://shop.example may call the API."""
    from app import create_app

    allowed = settings.model_copy(update={"cors_allow_origins": ["https://shop.example"]})
    application = create_app(allowed, stores=stores)
    async with application.router.lifespan_context(application):
        yield application


async def test_cors_allows_the_configured_origin_only(storefront: Any) -> None:
    transport = httpx.ASGITransport(app=storefront)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as http:
        preflight = {
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        }
        allowed = await http.options("/graphql", headers={"Origin": "https://shop.example", **preflight})
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://shop.example"
        assert allowed.headers["access-control-max-age"] == "600"
        assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
        refused = await http.options("/graphql", headers={"Origin": "https://evil.example", **preflight})
        assert "access-control-allow-origin" not in refused.headers
        answered = await http.post(
            "/graphql", json={"query": "{ genres { name } }"}, headers={"Origin": "https://shop.example"}
        )
        assert answered.headers["access-control-allow-origin"] == "https://shop.example"
        assert "x-request-id" in answered.headers["access-control-expose-headers"].lower()


async def test_the_websocket_handshake_follows_the_same_origins(storefront: Any) -> None:
    transport = ASGIWebSocketTransport(app=storefront)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as http:
        async with aconnect_ws(
            "/graphql",
            http,
            subprotocols=["graphql-transport-ws"],
            headers={"Origin": "https://shop.example"},
        ) as ws:
            assert ws.subprotocol == "graphql-transport-ws"
        # Closed before it is accepted: an ASGI server answers such a handshake with 403.
        with pytest.raises(WebSocketDisconnect) as refused:
            async with aconnect_ws(
                "/graphql",
                http,
                subprotocols=["graphql-transport-ws"],
                headers={"Origin": "https://evil.example"},
            ):
                pass
        assert refused.value.code == 1008


async def test_large_answers_are_compressed_for_clients_that_accept_it(client: httpx.AsyncClient) -> None:
    query = {"query": "{ books(first: 100) { edges { node { id title description price { amount } } } } }"}
    plain = await client.post("/graphql", json=query, headers={"Accept-Encoding": "identity"})
    packed = await client.post("/graphql", json=query, headers={"Accept-Encoding": "gzip, br"})
    assert "content-encoding" not in plain.headers
    assert (
        packed.headers["content-encoding"] == "gzip" and "accept-encoding" in packed.headers["vary"].lower()
    )
    assert packed.json() == plain.json()  # httpx decodes it
    assert int(packed.headers["content-length"]) < len(plain.content) / 3


CACHE_CASES = [
    # (query, with a token, Cache-Control)
    ("{ genres { name } }", False, "public, max-age=300"),
    ("{ genres { name } books(first: 2) { edges { node { title } } } }", False, "public, max-age=60"),
    (
        "{ books(first: 2) { edges { node { ...B } } } } fragment B on Book { title stock { available } }",
        False,
        "public, max-age=10",
    ),
    ("{ genres { name } }", True, "private, max-age=300"),  # a token: never in a shared cache
    ("{ viewer { name } }", True, "no-store"),
    ("{ __typename }", False, "no-store"),
    ('mutation { cancelOrder(id: "T3JkZXI6MQ==") { order { id } } }', True, "no-store"),
    ('{ genres { name } book(isbn: "0") { title } }', False, "no-store"),  # an error
    ("{ nope }", False, "no-store"),  # refused
]


@pytest.mark.parametrize(("query", "with_token", "expected"), CACHE_CASES)
async def test_cache_control_follows_the_fields_selected(
    client: httpx.AsyncClient, settings: Settings, query: str, with_token: bool, expected: str
) -> None:
    headers = {"Authorization": f"Bearer {token_for(settings, 'cache-user')}"} if with_token else {}
    response = await client.post("/graphql", json={"query": query}, headers=headers)
    assert response.headers["cache-control"] == expected
    assert "Authorization" in response.headers["vary"]


async def test_a_persisted_catalog_query_over_get_is_cacheable_by_a_cdn(client: httpx.AsyncClient) -> None:
    query = "{ genres { name } " + f"n{uuid.uuid4().hex}: genres {{ bookCount }} }}"
    digest = hashlib.sha256(query.encode()).hexdigest()
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
    await client.post("/graphql", json={"query": query, "extensions": extensions})
    cached = await client.get(
        "/graphql",
        params={"extensions": json.dumps(extensions)},
        headers={"Content-Type": "application/json"},
    )
    assert cached.status_code == 200 and cached.json()["data"]["genres"]
    assert cached.headers["cache-control"] == "public, max-age=300"


def test_an_order_reached_through_node_is_never_kept() -> None:
    from graphql import parse

    from gateway.caching import CachePolicies
    from schema.root import schema

    policies = CachePolicies(schema._schema)
    order = parse('{ node(id: "T3JkZXI6MQ==") { ... on Order { number status } } }')
    book = parse('{ node(id: "Qm9vazox") { ... on Book { title } } }')
    assert policies.header(order, None, errors=False, with_token=True) == "no-store"
    assert policies.header(book, None, errors=False, with_token=False) == "public, max-age=60"


def test_every_cache_hint_names_a_field_of_the_schema() -> None:
    from gateway.caching import HINTS
    from schema.root import schema

    for name in HINTS:
        type_name, field = name.split(".")
        assert field in schema._schema.get_type(type_name).fields, name  # type: ignore[union-attr]
