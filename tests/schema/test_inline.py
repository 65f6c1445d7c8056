"""The general path reads plain attribute fields inline (schema/inline.py), and is held to the
library's own executor: the same request through both, on the same stores, gives the same JSON,
errors, nulls and status included."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from support import DrawnQueries, GraphQLClient, comparable

from auth.viewer import Role
from config import Settings
from datasources.stores import Stores
from gateway.persisted import MANIFEST_PATH, Manifest
from schema.inline import InlineExecutionContext
from schema.relay import to_global_id

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture(scope="module")
async def library_client(settings: Settings, stores: Stores) -> AsyncIterator[httpx.AsyncClient]:
    """Strawberry on graphql-core's executor as shipped: no plans, nothing inline."""
    from app import create_app

    reference = settings.model_copy(update={"compiled_execution": False, "inline_fields": False})
    application = create_app(reference, stores=stores)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://bookgraph.test") as http:
            yield http


class Both:
    def __init__(self, inline: httpx.AsyncClient, library: httpx.AsyncClient, settings: Settings) -> None:
        self.inline, self.library = GraphQLClient(inline, settings), GraphQLClient(library, settings)

    async def __call__(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        as_: str | None = "demo-customer-3",
        role: Role = Role.CUSTOMER,
    ) -> dict[str, Any]:
        # Once before: what a miss computes and caches in Redis (recommendations, the trending
        # lists, with decay to the instant they were computed) is then there for both.
        await self.library.post(query, variables, as_=as_, role=role)
        reference = await self.library.post(query, variables, as_=as_, role=role)
        before = InlineExecutionContext.inlined
        answer = await self.inline.post(query, variables, as_=as_, role=role)
        self.inlined = InlineExecutionContext.inlined - before
        assert answer.status_code == reference.status_code
        assert comparable(answer.json()) == comparable(reference.json()), query
        body: dict[str, Any] = answer.json()
        return body


@pytest.fixture
def both(general_client: httpx.AsyncClient, library_client: httpx.AsyncClient, settings: Settings) -> Both:
    return Both(general_client, library_client, settings)


async def test_a_page_of_orders_is_mostly_read_inline(both: Both) -> None:
    body = await both((BENCH / "orders_only.graphql").read_text())
    orders = body["data"]["viewer"]["orders"]["edges"]
    assert orders
    # number, status, total's amount, the customer's name; a line's quantity and unit price's
    # amount (its bookId is a resolver: a global ID): every one read inline.
    lines = sum(len(o["node"]["lines"]) for o in orders)
    assert both.inlined == len(orders) * 4 + lines * 2


@pytest.mark.parametrize(
    "workload", sorted(p.stem for p in BENCH.glob("*.graphql") if p.stem != "place_order")
)
async def test_every_bench_workload(both: Both, workload: str) -> None:
    variables = {
        "id": to_global_id("Book", 7),
        "query": "a quiet mystery by the sea",
        "first": 5,
        "filter": {"inStock": True},
        "orderBy": {"field": "TITLE", "direction": "ASC"},
    }
    document = (BENCH / f"{workload}.graphql").read_text()
    await both(document, {k: v for k, v in variables.items() if f"${k}" in document})


async def test_the_trusted_documents(both: Both) -> None:
    listed = await both("{ viewer { orders(first: 1) { edges { node { id } } } } }")
    order_id = listed["data"]["viewer"]["orders"]["edges"][0]["node"]["id"]
    variables = {"OrderDetail": {"id": order_id}, "OrderHistory": {"first": 5}}
    for operation in Manifest.load(MANIFEST_PATH).operations.values():
        if operation.type == "query":
            await both(
                operation.body,
                variables.get(operation.name, {"id": "Qm9vazox", "first": 3, "query": "dragons"}),
            )


@pytest.mark.parametrize("seed", range(30))
async def test_drawn_documents(both: Both, seed: int) -> None:
    queries = DrawnQueries(seed)
    document = queries.document()
    await both(document, {"flag": seed % 2 == 1} if queries.flagged else {})


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        # Another customer's order: null, with the error at its path.
        ("query ($id: ID!) { order(id: $id) { number status } }", {"id": to_global_id("Order", 1)}),
        # node/nodes across types, one unknown.
        (
            "query ($ids: [ID!]!) { nodes(ids: $ids) { __typename id ... on Book { title isbn } "
            "... on Author { name } } }",
            {"ids": [to_global_id("Book", 3), to_global_id("Author", 2), to_global_id("Book", 99999)]},
        ),
        # Bad arguments, nullable and not.
        ("{ books(first: 0) { edges { node { title } } } }", {}),
        ('{ book(id: "nonsense") { title } }', {}),
        # Nulls in leaves (a book without a description is a null, not a skipped field).
        ("{ books(first: 30) { edges { node { title description publishedYear genres } } } }", {}),
        # Introspection types are plain objects, but not this schema's.
        ('{ __schema { queryType { name } } __type(name: "Book") { name kind fields { name } } }', {}),
    ],
)
async def test_errors_nulls_and_the_rest(both: Both, query: str, variables: dict[str, Any]) -> None:
    await both(query, variables)


async def test_anonymous_and_admin_views(both: Both) -> None:
    await both("{ viewer { name } books(first: 3) { edges { node { title } } } }", as_=None)
    await both("{ customers(first: 3) { edges { node { name email } } } }", as_="admin", role=Role.ADMIN)
