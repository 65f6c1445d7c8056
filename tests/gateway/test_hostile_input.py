"""Raw bodies a client could send to hurt the server: each is the client's error (a 4xx or a coded
GraphQL error), never a 500 or INTERNAL."""

from __future__ import annotations

import httpx
import pytest

ENTITIES = "query ($r: [_Any!]!) { _entities(representations: $r) { __typename } }"


def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


BODIES: dict[str, bytes] = {
    "variables nested 1,000 deep": (
        '{"query": "' + ENTITIES + '", "variables": {"r": ' + deep(1000) + "}}"
    ).encode(),
    "an _Any nested 1,000 deep": (
        '{"query": "' + ENTITIES + '", "variables": {"r": [' + '{"a":' * 1000 + "1" + "}" * 1000 + "]}}"
    ).encode(),
    "extensions nested 5,000 deep": (
        '{"query": "{ genres { name } }", "extensions": {"x": ' + deep(5000) + "}}"
    ).encode(),
    "invalid UTF-8": b'{"query": "{ genres { name } }\xff\xfe"}',
    "a lone surrogate escaped in the query": b'{"query": "{ books(first: 1, filter: { titleContains: \\"\\ud800\\" }) { totalCount } }"}',
    "a lone surrogate in a variable": b'{"query": "query ($t: String) { genres { name } }", "variables": {"t": "\\ud800"}}',
    "not JSON": b"{query",
    "a JSON string": b'"{ genres { name } }"',
    "a JSON number": b"1",
    "JSON null": b"null",
    "an array of numbers": b"[1, 2]",
    "a subscription over HTTP": b'{"query": "subscription { stockChanged(bookIds: [\\"Qm9vazox\\"]) { bookId } }"}',
    "an empty body": b"",
}


@pytest.mark.parametrize("name", list(BODIES))
async def test_hostile_bodies_are_the_clients_error(name: str, client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", content=BODIES[name], headers={"Content-Type": "application/json"}
    )
    assert 400 <= response.status_code < 500 or response.status_code == 200, response.text
    assert "INTERNAL" not in response.text and "Internal server error" not in response.text
    if response.status_code == 200:
        codes = [e["extensions"]["code"] for e in response.json()["errors"]]
        assert codes and "INTERNAL" not in codes


async def test_fragments_doubling_64_times_are_counted_not_multiplied(client: httpx.AsyncClient) -> None:
    chain = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(64))
    query = "query { ...F0 } " + chain + " fragment F64 on Query { a: genres { name } }"
    response = await client.post(
        "/graphql", json={"query": query}, headers={"Accept": "application/graphql-response+json"}
    )
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert error["message"].startswith("The anonymous operation has at least 1000000 aliases")
