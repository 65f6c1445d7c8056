"""Query cost through the HTTP app: refused before any resolver runs when too complex, charged to a
shared leaky bucket per client, reported in `extensions.cost` of every response."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from support import error_codes, token_for

from config import Settings
from datasources.stores import Stores

CATALOG = "{ books(first: 10) { edges { node { title } } } }"
GRAPHQL_RESPONSE = {"Accept": "application/graphql-response+json"}
# 13 levels: book, then three times authors → books → edges → node.
NESTED = 'book(id: "QmVvazox") { ' + "authors { books(first: 1) { edges { node { " * 3
CLOSE = " }" * 13


@pytest.fixture(scope="module")
async def small_budget(settings: Settings, stores: Stores) -> AsyncIterator[httpx.AsyncClient]:
    from app import create_app

    tight = settings.model_copy(
        update={"cost_bucket_size": 100, "cost_restore_rate": 25.0, "max_query_cost": 80}
    )
    application = create_app(tight, stores=stores)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://budget.test") as http:
            yield http


def as_customer(settings: Settings, subject: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(settings, subject)}"}


async def test_every_response_reports_its_cost(client: httpx.AsyncClient, settings: Settings) -> None:
    body = (await client.post("/graphql", json={"query": CATALOG})).json()
    cost = body["extensions"]["cost"]
    # books 1 + 10 x (edge 1 + node 1); scalar fields are free.
    assert cost["requestedQueryCost"] == 1 + 10 * 2
    assert 0 < cost["actualQueryCost"] <= cost["requestedQueryCost"]
    status = cost["throttleStatus"]
    assert status["maximumAvailable"] == settings.cost_bucket_size
    assert status["restoreRate"] == settings.cost_restore_rate
    assert 0 <= status["currentlyAvailable"] <= status["maximumAvailable"]
    # Fewer items than asked for cost less than requested.
    few = (
        await client.post(
            "/graphql",
            json={
                "query": '{ books(first: 100, filter: {title: "zzzz-none"}) { edges { node { title } } } }'
            },
        )
    ).json()
    assert few["extensions"]["cost"]["actualQueryCost"] < few["extensions"]["cost"]["requestedQueryCost"]


async def test_a_query_over_the_maximum_is_refused_before_any_resolver(
    small_budget: httpx.AsyncClient, count_statements: Any
) -> None:
    counter = count_statements()
    response = await small_budget.post(
        "/graphql",
        json={"query": "{ books(first: 100) { edges { node { title } } } }"},
        headers=GRAPHQL_RESPONSE,
    )
    assert response.status_code == 400
    body = response.json()
    assert error_codes(body) == ["QUERY_TOO_COMPLEX"] and "data" not in body
    assert body["errors"][0]["extensions"]["requestedQueryCost"] > 80
    assert counter.delta() == {"inventory": 0, "orders": 0}


@pytest.mark.parametrize(
    ("query", "refused"),
    [
        # Depth 15 passes, 16 does not, however it is written (a fragment, an operation named __schema).
        ("{ " + NESTED + "authors { name }" + CLOSE + " }", False),
        (
            "query __schema { ...A } fragment A on Query { "
            + NESTED
            + "authors { books(first: 1) { totalCount } }"
            + CLOSE
            + " }",
            True,
        ),
        ("{ ... on Query { " + NESTED + "authors { books(first: 1) { totalCount } }" + CLOSE + " } }", True),
        # 30 aliases pass; one fragment with 16 spread twice is 32.
        ("{ " + " ".join(f"a{i}: genres {{ name }}" for i in range(30)) + " }", False),
        (
            "{ ...F ...F } fragment F on Query { "
            + " ".join(f"a{i}: genres {{ name }}" for i in range(16))
            + " }",
            True,
        ),
        (
            "{ genres @include(if: true) @include(if: true) @include(if: true) @include(if: true) @include(if: true) { name } }",
            False,
        ),
        (
            "{ genres @include(if: true) @include(if: true) @include(if: true) @include(if: true) @include(if: true) @include(if: true) { name } }",
            True,
        ),
    ],
)
async def test_limits_hold_at_their_boundary(
    client: httpx.AsyncClient, count_statements: Any, query: str, refused: bool
) -> None:
    counter = count_statements()
    body = (await client.post("/graphql", json={"query": query})).json()
    codes = error_codes(body)
    if refused:
        assert codes == ["QUERY_TOO_COMPLEX"]
        assert counter.delta() == {"inventory": 0, "orders": 0}
    else:
        assert "QUERY_TOO_COMPLEX" not in codes


async def test_the_budget_drains_throttles_and_refills(
    small_budget: httpx.AsyncClient, settings: Settings
) -> None:
    headers = as_customer(settings, "greedy-partner")
    spent = []
    for _ in range(20):
        response = await small_budget.post("/graphql", json={"query": CATALOG}, headers=headers)
        if response.status_code == 429:
            break
        spent.append(response.json()["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"])
    else:
        pytest.fail("the budget never ran out")
    assert spent == sorted(spent, reverse=True) or spent[0] >= spent[-1]
    body = response.json()
    assert error_codes(body) == ["THROTTLED"] and "data" not in body
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= 5
    assert (
        body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"]
        < body["extensions"]["cost"]["requestedQueryCost"]
    )
    # Another client's budget is its own.
    other = await small_budget.post(
        "/graphql", json={"query": CATALOG}, headers=as_customer(settings, "patient-partner")
    )
    assert other.status_code == 200
    await asyncio.sleep(retry_after)
    again = await small_budget.post("/graphql", json={"query": CATALOG}, headers=headers)
    assert again.status_code == 200 and "errors" not in again.json()


async def test_anonymous_clients_share_a_budget_by_address(small_budget: httpx.AsyncClient) -> None:
    statuses = [(await small_budget.post("/graphql", json={"query": CATALOG})).status_code for _ in range(20)]
    assert 429 in statuses


async def test_a_budget_drained_on_one_process_throttles_on_another(shop: Any, tmp_path_factory: Any) -> None:
    from support import ServerProcess

    limits = {"COST_BUCKET_SIZE": "100", "COST_RESTORE_RATE": "1", "MAX_QUERY_COST": "80"}
    first, second = (
        ServerProcess(shop.settings, tmp_path_factory.mktemp("budget"), **limits) for _ in range(2)
    )
    try:
        await asyncio.gather(first.ready(), second.ready())
        headers = as_customer(shop.settings, "two-process-partner")
        async with httpx.AsyncClient(base_url=first.url) as a, httpx.AsyncClient(base_url=second.url) as b:
            statuses = [
                (await a.post("/graphql", json={"query": CATALOG}, headers=headers)).status_code
                for _ in range(6)
            ]
            assert statuses[:4] == [200] * 4 and statuses[-1] == 429  # 100 points, 21 a query
            other = await b.post("/graphql", json={"query": CATALOG}, headers=headers)
        assert other.status_code == 429 and error_codes(other.json()) == ["THROTTLED"]
    finally:
        first.stop()
        second.stop()


def test_an_astronomical_cost_is_reported_as_a_number_json_can_carry() -> None:
    """Found by fuzzing: a cost past 64 bits made the error response itself fail to encode."""
    from graphql import parse

    from limits import MAX_REPORTED_COST, Limits, check_cost
    from schema.root import schema

    nested = 'author(id: "QXV0aG9yOjE") { ' + "books(first: 100) { edges { node { authors { " * 9
    query = "{ " + nested + "name" + " } } } }" * 9 + " } }"
    [error] = check_cost(schema._schema, parse(query), None, None, Limits(max_depth=100))
    assert error.extensions is not None
    assert error.extensions["requestedQueryCost"] == MAX_REPORTED_COST
    import orjson

    orjson.dumps(error.formatted)  # the response can be written
