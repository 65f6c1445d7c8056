"""Persisted queries through the HTTP app: Apollo's APQ round trip (also across processes), and the
trusted-documents allowlist built from gql/operations."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from support import ServerProcess, Shop, app_with, error_codes, http_to, token_for

from auth.viewer import Role
from config import Settings
from datasources.stores import Stores
from gateway.persisted import MANIFEST_PATH, OPERATIONS_DIR, Manifest, sha256


def unique_query() -> str:
    # A text no earlier run registered: the first request must be a miss.
    return f"{{ genres {{ name }} n{uuid.uuid4().hex}: genres {{ bookCount }} }}"


def persisted(digest: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


async def test_apq_miss_register_hit_and_get(client: httpx.AsyncClient) -> None:
    query = unique_query()
    digest = sha256(query)

    missed = await client.post("/graphql", json={"extensions": persisted(digest)})
    assert missed.status_code == 200  # part of the protocol, as Apollo's clients expect
    miss = missed.json()
    assert error_codes(miss) == ["PERSISTED_QUERY_NOT_FOUND"]
    assert miss["errors"][0]["message"] == "PersistedQueryNotFound"  # what Apollo clients look for

    registered = (
        await client.post("/graphql", json={"query": query, "extensions": persisted(digest)})
    ).json()
    assert "errors" not in registered and registered["data"]["genres"]

    hit = (await client.post("/graphql", json={"extensions": persisted(digest)})).json()
    assert hit["data"] == registered["data"]
    # A GET a CDN can cache: no body, the hash in the URL.
    cached = await client.get(
        "/graphql",
        params={"extensions": json.dumps(persisted(digest))},
        headers={"apollo-require-preflight": "true"},
    )
    assert cached.status_code == 200 and cached.json()["data"] == registered["data"]


@pytest.mark.parametrize(
    "junk",
    [
        "{ genres { name ",  # does not parse
        "{ genres { colour } }",  # does not validate
        "{ genres { name " + " " * 30_000 + "} }",  # over the length limit
    ],
)
async def test_only_documents_that_parse_and_validate_are_registered(
    client: httpx.AsyncClient, junk: str
) -> None:
    text = junk + f" # {uuid.uuid4().hex}"
    digest = sha256(text)
    refused = (await client.post("/graphql", json={"query": text, "extensions": persisted(digest)})).json()
    assert refused["errors"] and "data" not in refused
    # Not stored: the hash alone is still unknown, here and to every other process.
    again = (await client.post("/graphql", json={"extensions": persisted(digest)})).json()
    assert error_codes(again) == ["PERSISTED_QUERY_NOT_FOUND"]


async def test_registering_and_refusals_are_paid_for(settings: Settings, stores: Stores) -> None:

    async with (
        app_with(settings, stores, cost_bucket_size=40, cost_restore_rate=0.01) as application,
        http_to(application) as http,
    ):

        async def available(body: dict[str, Any]) -> float:
            answer = (await http.post("/graphql", json=body)).json()
            return float(answer["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"])

        # A query that costs nothing still pays the minimum.
        free = await available({"query": "{ __typename }"})
        assert free == pytest.approx(39, abs=0.5)
        query = "{ __typename " + f"n{uuid.uuid4().hex}: __typename }}"
        registering = await available({"query": query, "extensions": persisted(sha256(query))})
        assert registering == pytest.approx(free - 1 - 10, abs=0.5)  # the minimum and the registration
        # A loop of refusals runs dry like anything else.
        statuses = [(await http.post("/graphql", json={"query": "{ nope }"})).status_code for _ in range(40)]
    assert 429 in statuses


async def test_registrations_per_client_are_bounded(settings: Settings, stores: Stores) -> None:

    async with (
        app_with(settings, stores, apq_registrations_per_client=3) as application,
        http_to(application) as http,
    ):
        answers = []
        for _ in range(5):
            query = unique_query()
            body = {"query": query, "extensions": persisted(sha256(query))}
            answers.append(await http.post("/graphql", json=body))
    assert [a.status_code for a in answers] == [200, 200, 200, 429, 429]
    assert error_codes(answers[3].json()) == ["THROTTLED"] and "3 new persisted queries" in answers[3].text


async def test_a_hash_that_does_not_match_its_text_is_refused(client: httpx.AsyncClient) -> None:
    body = {"query": "{ genres { name } }", "extensions": persisted(sha256("{ something else }"))}
    assert error_codes((await client.post("/graphql", json=body)).json()) == ["PERSISTED_QUERY_HASH_MISMATCH"]
    malformed = {"query": "{ genres { name } }", "extensions": {"persistedQuery": {"version": 2}}}
    assert error_codes((await client.post("/graphql", json=malformed)).json()) == ["BAD_USER_INPUT"]


async def test_a_query_registered_on_one_process_is_served_by_another(
    shop: Shop, servers: list[ServerProcess]
) -> None:
    query = unique_query()
    digest = sha256(query)
    registered = await shop.http.post("/graphql", json={"query": query, "extensions": persisted(digest)})
    assert "errors" not in registered.json()
    async with httpx.AsyncClient(base_url=servers[0].url) as other:
        served = await other.get(
            "/graphql",
            params={"extensions": json.dumps(persisted(digest))},
            headers={"x-apollo-operation-name": "Genres"},
        )
    assert served.status_code == 200 and served.json()["data"] == registered.json()["data"]


async def test_mutations_never_run_over_get(shop: Shop) -> None:
    mutation = 'mutation { cancelOrder(id: "T3JkZXI6MQ") { order { id } } }'
    digest = sha256(mutation)
    token = token_for(shop.settings, "get-mutation")
    await shop.http.post("/graphql", json={"query": "{ genres { name } }"})  # a harmless request first
    response = await shop.http.get(
        "/graphql",
        params={"query": mutation, "extensions": json.dumps(persisted(digest))},
        headers={"Authorization": f"Bearer {token}", "apollo-require-preflight": "true"},
    )
    assert response.status_code in (400, 405)
    assert "cancelOrder" not in response.text or "data" not in response.json()


def test_the_manifest_is_built_from_the_operations_and_every_one_is_valid() -> None:
    from graphql import parse, validate

    from schema.root import schema

    manifest = Manifest.build(OPERATIONS_DIR)
    assert MANIFEST_PATH.read_bytes() == manifest.dumps(), "run `bookgraph operations build`"
    assert {op.name for op in manifest.operations.values()} >= {
        "Home",
        "BookDetail",
        "PlaceOrder",
        "OrderStatus",
    }
    for operation in manifest.operations.values():
        assert operation.id == sha256(operation.body)
        assert validate(schema._schema, parse(operation.body)) == []


@pytest.fixture(scope="module")
async def allowlisted(settings: Settings, stores: Stores) -> AsyncIterator[httpx.AsyncClient]:
    from app import create_app

    strict = settings.model_copy(update={"persisted_queries": "allowlist"})
    application = create_app(strict, stores=stores)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://strict.test") as http:
            yield http


async def test_allowlist_mode_runs_only_the_manifest(
    allowlisted: httpx.AsyncClient, settings: Settings
) -> None:
    manifest = Manifest.load(MANIFEST_PATH)
    home = next(op for op in manifest.operations.values() if op.name == "Home")
    customer = {"Authorization": f"Bearer {token_for(settings, 'demo-customer-2')}"}

    by_hash = (
        await allowlisted.post("/graphql", json={"extensions": persisted(home.id)}, headers=customer)
    ).json()
    assert "errors" not in by_hash and by_hash["data"]["viewer"]["recommendations"]
    by_text = (await allowlisted.post("/graphql", json={"query": home.body}, headers=customer)).json()
    assert by_text["data"] == by_hash["data"]

    handwritten = {"query": "{ viewer { email } }"}
    refused = (await allowlisted.post("/graphql", json=handwritten, headers=customer)).json()
    assert error_codes(refused) == ["PERSISTED_QUERY_NOT_IN_LIST"] and "data" not in refused
    anonymous = (await allowlisted.post("/graphql", json={"query": "{ genres { name } }"})).json()
    assert error_codes(anonymous) == ["PERSISTED_QUERY_NOT_IN_LIST"]
    # Clients cannot register new operations.
    query = unique_query()
    register = {"query": query, "extensions": persisted(sha256(query))}
    assert error_codes((await allowlisted.post("/graphql", json=register)).json()) == [
        "PERSISTED_QUERY_NOT_IN_LIST"
    ]
    assert error_codes(
        (await allowlisted.post("/graphql", json={"extensions": persisted(sha256(query))})).json()
    ) == ["PERSISTED_QUERY_NOT_IN_LIST"]
    # Partners explore the API with hand-written queries.
    partner = {"Authorization": f"Bearer {token_for(settings, 'partner-1', Role.PARTNER)}"}
    explored = (
        await allowlisted.post("/graphql", json={"query": "{ genres { name } }"}, headers=partner)
    ).json()
    assert "errors" not in explored
