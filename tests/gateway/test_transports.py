"""One admission for both transports: every attack case is sent over HTTP and over graphql-transport-ws
to the same app, and must be refused the same way (the same codes, the same masking, no hints), and
what is admitted reports its cost on both. The WebSocket client here reads text frames only, as the
standard clients do."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from httpx_ws import WebSocketDisconnect, aconnect_ws
from httpx_ws.transport import ASGIWebSocketTransport
from starlette.applications import Starlette
from support import Socket, app_with, connect, token_for

from auth.viewer import Role
from config import Settings
from datasources.stores import Stores


@dataclass
class Answer:
    """What one transport answered, reduced to what both must agree on."""

    codes: list[str]
    messages: list[str]
    data: Any
    cost: Any

    @classmethod
    def of(cls, result: dict[str, Any]) -> Answer:
        """From a GraphQL response body or a `next` payload."""
        errors = result.get("errors", [])
        return cls(
            [e["extensions"]["code"] for e in errors],
            [e["message"] for e in errors],
            result.get("data"),
            (result.get("extensions") or {}).get("cost"),
        )


async def over_http(http: httpx.AsyncClient, payload: dict[str, Any], token: str | None) -> Answer:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    # Escaped to ASCII, as the WebSocket messages are: a lone surrogate is only sendable escaped.
    response = await http.post("/graphql", content=json.dumps(payload), headers=headers)
    assert response.status_code in (200, 400, 429), response.text
    return Answer.of(response.json())


async def over_ws(socket: Socket, payload: dict[str, Any]) -> Answer:
    messages = await socket.operate(payload)
    last = messages[-1]
    if last["type"] == "error":  # refused before execution: the protocol's `error` message
        return Answer.of({"errors": last["payload"]})
    [result] = [m["payload"] for m in messages if m["type"] == "next"]
    return Answer.of(result)


def nested(levels: int) -> str:
    return (
        'book(id: "QmVvazox") { '
        + "authors { books(first: 1) { edges { node { " * levels
        + "title"
        + " }" * (levels * 4 + 1)
    )


ATTACKS: dict[str, tuple[Role | None, dict[str, Any], str]] = {
    # name: (who, payload, the code both transports answer)
    "too deep": (None, {"query": "{ " + nested(4) + " }"}, "QUERY_TOO_COMPLEX"),
    "too many aliases": (
        None,
        {"query": "{ " + " ".join(f"a{i}: genres {{ name }}" for i in range(40)) + " }"},
        "QUERY_TOO_COMPLEX",
    ),
    "too many directives": (
        None,
        {"query": "{ genres " + "@include(if: true) " * 8 + "{ name } }"},
        "QUERY_TOO_COMPLEX",
    ),
    "too many tokens": (
        None,
        {"query": "{ genres { " + "name " * 2500 + "} }"},
        "QUERY_TOO_COMPLEX",
    ),
    "too costly": (
        None,
        {
            "query": "{ books(first: 100) { edges { node { authors { books(first: 100) "
            "{ edges { node { title description } } } } } } } }"
        },
        "QUERY_TOO_COMPLEX",
    ),
    "100 aliased cancelOrder": (
        Role.CUSTOMER,
        {
            "query": "mutation { "
            + " ".join(f'c{i}: cancelOrder(id: "T3JkZXI6MQ==") {{ order {{ id }} }}' for i in range(100))
            + " }"
        },
        "QUERY_TOO_COMPLEX",
    ),
    "1,500 entity references, each with a page under it": (
        None,
        {
            "query": "query ($r: [_Any!]!) { _entities(representations: $r) { ... on Book { title "
            "authors { books(first: 10) { edges { node { title } } } } } } }",
            "variables": {"r": [{"__typename": "Book", "id": "Qm9vazox"}] * 1_500},
        },
        "QUERY_TOO_COMPLEX",
    ),
    "a 30,000-character query": (
        None,
        {"query": "{ genres { name" + " " * 30_000 + "} }"},
        "QUERY_TOO_COMPLEX",
    ),
    "anonymous introspection": (None, {"query": "{ __schema { types { name } } }"}, "FORBIDDEN"),
    "anonymous __type": (None, {"query": '{ __type(name: "Order") { fields { name } } }'}, "FORBIDDEN"),
    "anonymous _service": (None, {"query": "{ _service { sdl } }"}, "FORBIDDEN"),
    "a hash that does not match": (
        None,
        {
            "query": "{ genres { name } }",
            "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}},
        },
        "PERSISTED_QUERY_HASH_MISMATCH",
    ),
    "an unknown hash": (
        None,
        {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "f" * 64}}},
        "PERSISTED_QUERY_NOT_FOUND",
    ),
    "a misspelt field": (
        None,
        {"query": "{ books { edges { node { titel } } } }"},
        "GRAPHQL_VALIDATION_FAILED",
    ),
    "unparsable": (None, {"query": "{ books { edges "}, "GRAPHQL_PARSE_FAILED"),
    "null for a non-null variable": (
        None,
        {"query": "query ($n: Int!) { books(first: $n) { totalCount } }", "variables": {"n": None}},
        "BAD_USER_INPUT",
    ),
    "a missing variable": (
        None,
        {"query": "query ($n: Int!) { books(first: $n) { totalCount } }", "variables": {}},
        "BAD_USER_INPUT",
    ),
    "an Int out of range": (
        None,
        {"query": "query ($n: Int) { books(first: $n) { totalCount } }", "variables": {"n": 2**31}},
        "BAD_USER_INPUT",
    ),
    "text for an Int": (
        None,
        {"query": "query ($n: Int) { books(first: $n) { totalCount } }", "variables": {"n": "x"}},
        "BAD_USER_INPUT",
    ),
    "an unknown input field": (
        None,
        {
            "query": "query ($f: BookFilter) { books(first: 1, filter: $f) { totalCount } }",
            "variables": {"f": {"nope": 1}},
        },
        "BAD_USER_INPUT",
    ),
    "a NUL in a variable": (
        None,
        {
            "query": "query ($t: String) { books(first: 1, filter: { titleContains: $t }) { totalCount } }",
            "variables": {"t": "\u0000"},
        },
        "BAD_USER_INPUT",
    ),
    "a NUL in a literal": (
        None,
        {"query": '{ books(first: 1, filter: { titleContains: "\\u0000" }) { totalCount } }'},
        "BAD_USER_INPUT",
    ),
    "a 60,000-character string": (
        None,
        {
            "query": "query ($t: String) { books(first: 1, filter: { titleContains: $t }) { totalCount } }",
            "variables": {"t": "%_" * 30_000},
        },
        "BAD_USER_INPUT",
    ),
    "someone else's order": (
        Role.CUSTOMER,
        {"query": '{ order(id: "T3JkZXI6MQ==") { number } }'},
        "NOT_FOUND",
    ),
    "an anonymous mutation": (
        None,
        {"query": 'mutation { cancelOrder(id: "T3JkZXI6MQ==") { order { id } } }'},
        "UNAUTHENTICATED",
    ),
}


@pytest.mark.parametrize("case", list(ATTACKS))
async def test_every_attack_is_refused_alike_over_http_and_websocket(
    case: str, app: Starlette, client: httpx.AsyncClient, settings: Settings
) -> None:
    role, payload, code = ATTACKS[case]
    token = token_for(settings, f"attacker-{case.replace(' ', '-')}", role) if role else None
    http = await over_http(client, payload, token)
    async with connect(app, token) as socket:
        ws = await over_ws(socket, payload)
    assert code in http.codes, (case, http)
    assert ws.codes == http.codes, (case, http, ws)
    assert ws.messages == http.messages, case
    assert not [m for m in ws.messages if "Did you mean" in m]
    assert ws.data == http.data and (ws.data is None or not any(ws.data.values()))


async def test_a_misspelt_field_gets_hints_only_where_introspection_is_allowed(
    app: Starlette, client: httpx.AsyncClient, settings: Settings
) -> None:
    payload = {"query": "{ books { edges { node { titel } } } }"}
    partner = token_for(settings, "explorer", Role.PARTNER)
    async with connect(app, partner) as socket:
        ws = await over_ws(socket, payload)
    assert ws.messages == (await over_http(client, payload, partner)).messages
    assert "Did you mean" in ws.messages[0]


async def test_what_is_admitted_reports_its_cost_on_both(app: Starlette, client: httpx.AsyncClient) -> None:
    payload = {"query": "{ books(first: 3) { edges { node { title authors { name } } } } }"}
    http = await over_http(client, payload, None)
    async with connect(app) as socket:
        ws = await over_ws(socket, payload)
    assert ws.data == http.data and len(ws.data["books"]["edges"]) == 3
    assert ws.cost["requestedQueryCost"] == http.cost["requestedQueryCost"] > 0
    assert ws.cost["actualQueryCost"] == http.cost["actualQueryCost"] > 0


async def test_a_message_that_is_not_json_closes_the_connection_as_the_protocol_says(app: Starlette) -> None:
    # A lone surrogate is not Unicode: the decoder refuses the message (over HTTP: a 400).
    message = '{"id": "1", "type": "subscribe", "payload": {"query": "{ genres { name } }", "x": "\\ud800"}}'
    async with connect(app) as socket:
        await socket.ws.send_text(message)
        with pytest.raises(WebSocketDisconnect) as closed:
            await socket.receive()
    assert closed.value.code == 4400


async def test_a_nul_in_an_idempotency_key_changes_nothing(
    app: Starlette, client: httpx.AsyncClient, settings: Settings, stores: Stores
) -> None:
    # PostgreSQL would refuse it with an error naming the statement, its constraint and parameters.
    payload = {
        "query": "mutation ($k: String!) { placeOrder(input: { idempotencyKey: $k, lines: "
        '[{ bookId: "Qm9vazox", quantity: 1 }] }) { order { id } userErrors { code } } }',
        "variables": {"k": "nul\u0000key"},
    }
    token = token_for(settings, "nul-sender")
    before = await order_count(stores)
    http = await over_http(client, payload, token)
    async with connect(app, token) as socket:
        ws = await over_ws(socket, payload)
    assert http.codes == ws.codes == ["BAD_USER_INPUT"]
    assert http.messages == ws.messages == ["The variable `$k` contains a NUL character."]
    assert await order_count(stores) == before


async def order_count(stores: Stores) -> int:
    async with stores.orders.connect() as conn:
        return int((await conn.execute(sa.text("SELECT count(*) FROM orders"))).scalar_one())


@pytest.fixture(scope="module")
async def strict(settings: Settings, stores: Stores) -> AsyncIterator[Any]:
    """Only the manifest for anonymous clients, and a small budget for everyone."""

    async with app_with(
        settings,
        stores,
        persisted_queries="allowlist",
        persisted_queries_enforced_for=["anonymous"],
        cost_bucket_size=60,
        cost_restore_rate=1.0,
    ) as application:
        yield application


async def test_the_allowlist_holds_on_the_websocket(strict: Any) -> None:
    async with connect(strict) as socket:
        refused = await over_ws(socket, {"query": "{ genres { name } }"})
        unknown = await over_ws(
            socket,
            {
                "extensions": {
                    "persistedQuery": {"version": 1, "sha256Hash": hashlib.sha256(b"{ x }").hexdigest()}
                }
            },
        )
    assert refused.codes == ["PERSISTED_QUERY_NOT_IN_LIST"] and refused.data is None
    assert unknown.codes == ["PERSISTED_QUERY_NOT_IN_LIST"]


async def test_the_budget_is_charged_on_the_websocket(strict: Any, settings: Settings) -> None:
    query = {"query": "{ books(first: 10) { edges { node { title } } } }"}
    async with connect(strict, token_for(settings, f"ws-spender-{uuid.uuid4().hex[:6]}")) as socket:
        answers = [await over_ws(socket, query) for _ in range(8)]
    throttled = [a for a in answers if a.codes == ["THROTTLED"]]
    assert throttled, answers
    served = answers[: answers.index(throttled[0])]
    assert served and all(a.data and a.cost["requestedQueryCost"] > 0 for a in served)
    available = [a.cost["throttleStatus"]["currentlyAvailable"] for a in served]
    assert available == sorted(available, reverse=True)


@pytest.mark.parametrize("authorization", ["Basic dXNlcjpwYXNz", "Bearer not-a-token", "Bearer "])
async def test_a_bad_authorization_in_connection_init_is_refused(app: Starlette, authorization: str) -> None:
    transport = ASGIWebSocketTransport(app=app)
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://bookgraph.test") as http,
        aconnect_ws("/graphql", http, subprotocols=["graphql-transport-ws"]) as ws,
    ):
        await ws.send_text(
            json.dumps({"type": "connection_init", "payload": {"Authorization": authorization}})
        )
        with pytest.raises(WebSocketDisconnect) as closed:
            await ws.receive_text(timeout=10)
    assert closed.value.code == 4403
