"""What every request passes before execution: CSRF prevention, introspection and suggestions by
role, the body size cap, HTTP batching and the status of refused requests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from support import error_codes, token_for

from auth.viewer import Role
from config import Settings
from datasources.stores import Stores
from gateway.introspection import uses_introspection
from gateway.persisted import OPERATIONS_DIR as OPERATIONS
from schema.errors import without_suggestions


@pytest.fixture(scope="module")
async def strict(settings: Settings, stores: Stores) -> AsyncIterator[httpx.AsyncClient]:
    """The app as production runs it: introspection for partners and admins only, batching on (capped)."""
    from app import create_app

    strict_settings = settings.model_copy(
        update={"introspection_for": ["partner", "admin"], "http_batch_max": 3}
    )
    application = create_app(strict_settings, stores=stores)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://strict.test") as http:
            yield http


GRAPHQL_RESPONSE = {"Accept": "application/graphql-response+json"}


def bearer(settings: Settings, subject: str, role: Role) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(settings, subject, role)}"}


@pytest.mark.parametrize(
    ("method", "headers", "blocked"),
    [
        ("GET", {}, True),
        ("GET", {"apollo-require-preflight": "true"}, False),
        ("GET", {"x-apollo-operation-name": "Genres"}, False),
        ("POST", {"content-type": "text/plain"}, True),
        ("POST", {"content-type": "application/x-www-form-urlencoded"}, True),
        ("POST", {"content-type": "multipart/form-data; boundary=x"}, True),
        ("POST", {"content-type": "text/plain", "apollo-require-preflight": "1"}, False),
    ],
)
async def test_simple_requests_that_a_browser_could_forge_are_blocked(
    client: httpx.AsyncClient, method: str, headers: dict[str, str], blocked: bool
) -> None:
    query = "{ genres { name } }"
    if method == "GET":
        response = await client.get(
            "/graphql", params={"query": query}, headers={"accept": "application/json", **headers}
        )
    else:
        response = await client.post("/graphql", content=f'{{"query": "{query}"}}', headers=headers)
    if blocked:
        # Never executed: our CSRF check, or Strawberry refusing a form or text body outright.
        assert response.status_code == 400 and '"data"' not in response.text
        assert "cross-site request forgery" in response.text or "Unsupported content type" in response.text
    else:
        assert response.status_code != 400 or "cross-site" not in response.text
        if response.headers.get("content-type", "").startswith("application/json"):
            assert "errors" not in response.json() or method == "POST"


async def test_json_posts_pass_and_mutations_never_run_over_get(client: httpx.AsyncClient) -> None:
    ok = await client.post("/graphql", json={"query": "{ genres { name } }"})
    assert ok.status_code == 200 and "errors" not in ok.json()
    mutation = await client.get(
        "/graphql",
        params={"query": 'mutation { cancelOrder(id: "x") { order { id } } }'},
        headers={"accept": "application/json", "apollo-require-preflight": "true"},
    )
    assert mutation.status_code in (400, 405)


def test_introspection_is_found_through_fragments_and_aliases_only_when_really_asked() -> None:
    assert uses_introspection("{ __schema { types { name } } }")
    assert uses_introspection('query { s: __type(name: "Book") { name } }')
    assert uses_introspection(
        "query __schema { ...F } fragment F on Query { __schema { queryType { name } } }"
    )
    assert not uses_introspection("{ books(first: 1) { edges { node { __typename title } } } }")
    assert not uses_introspection("query __schema { genres { name } }")  # a name is not a field
    assert without_suggestions("Cannot query field 'titel' on type 'Book'. Did you mean 'title'?") == (
        "Cannot query field 'titel' on type 'Book'."
    )


async def test_introspection_and_hints_are_for_roles_that_may_introspect(
    strict: httpx.AsyncClient, settings: Settings
) -> None:
    introspect = {"query": "{ __schema { queryType { name } } }"}
    customer = bearer(settings, "demo-customer-1", Role.CUSTOMER)
    partner = bearer(settings, "partner-1", Role.PARTNER)

    refused = await strict.post("/graphql", json=introspect, headers={**customer, **GRAPHQL_RESPONSE})
    assert refused.status_code == 400 and error_codes(refused.json()) == ["FORBIDDEN"]
    assert error_codes((await strict.post("/graphql", json=introspect)).json()) == ["FORBIDDEN"]
    allowed = await strict.post("/graphql", json=introspect, headers=partner)
    assert allowed.json()["data"]["__schema"]["queryType"]["name"] == "Query"

    typo = {"query": "{ books(first: 1) { edges { node { titel } } } }"}
    hidden = await strict.post("/graphql", json=typo, headers=customer)
    assert hidden.status_code == 200  # application/json: see test_media_types
    assert error_codes(hidden.json()) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "Did you mean" not in hidden.text and "titel" in hidden.text
    hinted = await strict.post("/graphql", json=typo, headers=partner)
    assert "Did you mean 'title'?" in hinted.text


async def test_invalid_and_unparsable_requests_answer_400(client: httpx.AsyncClient) -> None:
    unparsable = await client.post("/graphql", json={"query": "{ books("}, headers=GRAPHQL_RESPONSE)
    assert unparsable.status_code == 400 and error_codes(unparsable.json()) == ["GRAPHQL_PARSE_FAILED"]
    invalid = await client.post("/graphql", json={"query": "{ nope }"}, headers=GRAPHQL_RESPONSE)
    assert invalid.status_code == 400 and error_codes(invalid.json()) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "data" not in invalid.json()
    # An error while executing is not the request's fault: 200 with the partial data.
    missing = await client.post(
        "/graphql", json={"query": '{ genres { name } book(isbn: "0") { title } }'}, headers=GRAPHQL_RESPONSE
    )
    assert missing.status_code == 200 and missing.json()["data"]["genres"]


async def test_bodies_over_the_cap_are_refused_before_they_are_read(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    padding = " " * (settings.max_body_bytes + 1)
    declared = await client.post(
        "/graphql",
        content=f'{{"query": "{{ genres {{ name }} }}{padding}"}}',
        headers={"content-type": "application/json"},
    )
    assert declared.status_code == 413 and error_codes(declared.json()) == ["BAD_USER_INPUT"]

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"query": "{ genres { name } }'
        for _ in range(settings.max_body_bytes // 1000 + 1):
            yield b" " * 1000
        yield b'"}'

    streamed = await client.post("/graphql", content=chunks(), headers={"content-type": "application/json"})
    assert streamed.status_code == 413


async def test_batching_is_off_by_default_and_capped_when_on(
    client: httpx.AsyncClient, strict: httpx.AsyncClient
) -> None:
    batch: list[dict[str, Any]] = [{"query": "{ genres { name } }"}] * 2
    assert (await client.post("/graphql", json=batch)).status_code == 400
    answered = await strict.post("/graphql", json=batch)
    assert (
        answered.status_code == 200 and [len(r["data"]["genres"]) > 0 for r in answered.json()] == [True] * 2
    )
    assert (await strict.post("/graphql", json=batch * 2)).status_code == 400  # 4 > 3


async def test_operations_are_counted_by_known_name_and_outcome(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    from prometheus_client import REGISTRY

    def count(operation: str, outcome: str) -> float:
        labels = {"operation": operation, "outcome": outcome}
        return REGISTRY.get_sample_value("bookgraph_graphql_operations_total", labels) or 0.0

    manifest_home = (OPERATIONS / "Home.graphql").read_text().strip() + "\n"
    before = count("Home", "ok"), count("other", "refused")
    customer = bearer(settings, "demo-customer-1", Role.CUSTOMER)
    ok = await client.post(
        "/graphql", json={"query": manifest_home, "operationName": "Home"}, headers=customer
    )
    assert "errors" not in ok.json()
    # A name the server does not know is not a label of its own.
    await client.post("/graphql", json={"query": "query Whatever { nope }", "operationName": "Whatever"})
    assert (count("Home", "ok"), count("other", "refused")) == (before[0] + 1, before[1] + 1)
