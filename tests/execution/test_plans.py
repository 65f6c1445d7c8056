"""Compiled execution is held to Strawberry: the same request through both paths, on the same stores,
gives the same JSON (ignoring nothing but the budget's moving balance), and the plan never sends a
store more statements than the general path does."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from support import GraphQLClient, StatementCounter, token_for

from auth.viewer import Role
from config import Settings
from gateway.persisted import MANIFEST_PATH, Manifest

ORDERS_ONLY = (
    "query OrdersOnly { viewer { orders(first: 50) { edges { node { number status total { amount } "
    "customer { name } lines { bookId quantity unitPrice { amount } } } } } } }"
)
EVERYTHING = """
query Everything($first: Int!) {
  viewer {
    id name email createdAt
    orders(first: $first) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges {
        cursor
        node {
          id number status placedAt
          total { amount currency }
          customer { id name email createdAt }
          lines { bookId quantity unitPrice { amount currency } subtotal { amount currency } }
          events { fromStatus toStatus occurredAt note }
        }
      }
    }
  }
}
"""
SHAPES = """
query Shapes {
  me: viewer { __typename ...Card again: name }
}
fragment Card on Customer {
  name
  recent: orders(first: 2) {
    __typename
    edges { __typename node { ... on Order { n: number status } ... on Node { id } __typename } }
    pageInfo { __typename hasNextPage }
  }
  older: orders(first: 1) { edges { node { number total { __typename amount } } } }
}
"""
CONDITIONAL = """
query Conditional($withLines: Boolean!, $withoutTotal: Boolean!) {
  viewer {
    orders(first: 3) {
      edges { node { number lines @include(if: $withLines) { quantity } total @skip(if: $withoutTotal) { amount } } }
    }
  }
}
"""
PAGE = """
query Page($first: Int!, $after: String, $status: [OrderStatus!]) {
  viewer {
    orders(first: $first, after: $after, status: $status) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage endCursor }
      edges { cursor node { number status placedAt } }
    }
  }
}
"""
ORDER = """
query One($id: ID!) {
  order(id: $id) { id number status total { amount currency } lines { quantity subtotal { amount } } events { toStatus } }
}
"""


def _executions(path: str) -> float:
    return sum(
        sample.value
        for metric in REGISTRY.collect()
        if metric.name == "bookgraph_execution"
        for sample in metric.samples
        if sample.name == "bookgraph_execution_total" and sample.labels["path"] == path
    )


class Both:
    def __init__(self, planned: httpx.AsyncClient, general: httpx.AsyncClient, settings: Settings) -> None:
        self.planned, self.general, self.settings = planned, general, settings

    async def __call__(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        as_: str | None = "demo-customer-1",
        role: Role = Role.CUSTOMER,
        planned: bool = True,
    ) -> dict[str, Any]:
        """The answer both paths agree on; `planned` says which path the plan app must have taken."""
        headers = {"Authorization": f"Bearer {token_for(self.settings, as_, role)}"} if as_ else {}
        payload = {"query": query, "variables": variables or {}}
        before, counter = _executions("plan"), StatementCounter()
        first = await self.planned.post("/graphql", json=payload, headers=headers)
        by_plan = counter.delta()
        assert (_executions("plan") - before == 1) is planned, first.text
        counter = StatementCounter()
        second = await self.general.post("/graphql", json=payload, headers=headers)
        by_strawberry = counter.delta()
        assert first.status_code == second.status_code
        assert _comparable(first.json()) == _comparable(second.json())
        if planned:  # (a fallback's statements are Strawberry's, after a plan's that found no row)
            for store in StatementCounter.STORES:
                assert by_plan[store] <= by_strawberry[store], (store, by_plan, by_strawberry)
        body: dict[str, Any] = first.json()
        return body


@pytest.fixture
def both(client: httpx.AsyncClient, general_client: httpx.AsyncClient, settings: Settings) -> Both:
    return Both(client, general_client, settings)


def _comparable(body: dict[str, Any]) -> dict[str, Any]:
    """The body without the budget's balance, which moves between the two requests."""
    cost = dict((body.get("extensions") or {}).get("cost") or {})
    cost.pop("throttleStatus", None)
    return {**body, "extensions": {**(body.get("extensions") or {}), "cost": cost}}


async def test_the_comparison_shape_is_one_statement_with_the_same_json(both: Both) -> None:
    counter = StatementCounter()
    body = await both(ORDERS_ONLY)
    orders = body["data"]["viewer"]["orders"]["edges"]
    assert len(orders) > 3 and all(edge["node"]["lines"] for edge in orders)
    assert body["extensions"]["cost"]["actualQueryCost"] > len(orders)
    # Both apps ran it: one statement for the plan, one batch per level for Strawberry.
    assert counter.delta()["orders"] <= 1 + 4


@pytest.mark.parametrize("first", [0, 1, 5, 100])
async def test_every_field_of_the_orders_graph(both: Both, first: int) -> None:
    body = await both(EVERYTHING, {"first": first})
    orders = body["data"]["viewer"]["orders"]
    assert len(orders["edges"]) == min(first, orders["totalCount"])
    if first:
        assert orders["pageInfo"]["endCursor"] == orders["edges"][-1]["cursor"]


async def test_aliases_fragments_typenames_and_abstract_conditions(both: Both) -> None:
    body = await both(SHAPES)
    me = body["data"]["me"]
    assert me["__typename"] == "Customer" and me["again"] == me["name"]
    assert me["recent"]["edges"][0]["node"]["__typename"] == "Order"
    assert "id" in me["recent"]["edges"][0]["node"]


@pytest.mark.parametrize("with_lines", [True, False])
@pytest.mark.parametrize("without_total", [True, False])
async def test_skip_and_include_on_variables(both: Both, with_lines: bool, without_total: bool) -> None:
    body = await both(CONDITIONAL, {"withLines": with_lines, "withoutTotal": without_total})
    node = body["data"]["viewer"]["orders"]["edges"][0]["node"]
    assert ("lines" in node) is with_lines and ("total" in node) is not without_total


async def test_pages_follow_cursors_and_filters(both: Both) -> None:
    first = await both(PAGE, {"first": 2})
    cursor = first["data"]["viewer"]["orders"]["pageInfo"]["endCursor"]
    second = await both(PAGE, {"first": 2, "after": cursor})
    assert second["data"]["viewer"]["orders"]["pageInfo"]["hasPreviousPage"] is True
    numbers = [e["node"]["number"] for e in first["data"]["viewer"]["orders"]["edges"]]
    assert not {e["node"]["number"] for e in second["data"]["viewer"]["orders"]["edges"]} & set(numbers)
    filtered = await both(PAGE, {"first": 10, "status": ["DELIVERED", "CANCELLED"]})
    statuses = {e["node"]["status"] for e in filtered["data"]["viewer"]["orders"]["edges"]}
    assert statuses <= {"DELIVERED", "CANCELLED"}


async def test_one_order_by_id_with_its_row_rule(both: Both) -> None:
    listed = await both("{ viewer { orders(first: 1) { edges { node { id } } } } }")
    order_id = listed["data"]["viewer"]["orders"]["edges"][0]["node"]["id"]
    own = await both(ORDER, {"id": order_id})
    assert own["data"]["order"]["id"] == order_id
    admin = await both(ORDER, {"id": order_id}, as_="an-admin", role=Role.ADMIN)
    assert admin["data"] == own["data"]
    # Someone else's order: the general path answers NOT_FOUND, with its path.
    other = await both(ORDER, {"id": order_id}, as_="demo-customer-2", planned=False)
    assert other["errors"][0]["extensions"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        (PAGE, {"first": 101}),  # check_first refuses it
        (PAGE, {"first": 2, "after": "not-a-cursor"}),
        (PAGE, {"first": "two"}),  # a variable that does not coerce
        (PAGE, {}),  # a required variable missing
        (ORDER, {"id": "Qm9vazox"}),  # the ID of a Book
        (ORDER, {"id": "%%%"}),
    ],
)
async def test_refused_arguments_are_answered_by_the_general_path(
    both: Both, query: str, variables: dict[str, Any]
) -> None:
    body = await both(query, variables, planned=False)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_who_is_asking_decides_too(both: Both) -> None:
    anonymous = await both(ORDERS_ONLY, as_=None, planned=False)
    assert anonymous["data"] == {"viewer": None}
    # First sight: the general path creates the customer; from then on the plan answers.
    new = await both(EVERYTHING, {"first": 3}, as_="plans-first-sight", planned=False)
    assert new["data"]["viewer"]["orders"] == {
        "totalCount": 0,
        "pageInfo": {"hasNextPage": False, "hasPreviousPage": False, "startCursor": None, "endCursor": None},
        "edges": [],
    }
    await both(EVERYTHING, {"first": 3}, as_="plans-first-sight")


async def test_fields_of_other_stores_and_mutations_run_on_strawberry(both: Both) -> None:
    await both(
        "{ viewer { orders(first: 2) { edges { node { lines { book { title } } } } } } }", planned=False
    )
    await both("{ viewer { name recommendations(first: 2) { book { id } } } }", planned=False)
    await both("{ genres { name } }", planned=False)


async def test_the_trusted_documents_give_the_same_answers(both: Both, gql: GraphQLClient) -> None:
    listed = await both("{ viewer { orders(first: 1) { edges { node { id } } } } }")
    order_id = listed["data"]["viewer"]["orders"]["edges"][0]["node"]["id"]
    variables = {"OrderDetail": {"id": order_id}, "OrderHistory": {"first": 5}}
    for operation in Manifest.load(MANIFEST_PATH).operations.values():
        if operation.type != "query":
            continue
        given = variables.get(operation.name, {"id": "Qm9vazox", "first": 3, "query": "dragons"})
        await both(operation.body, given, planned=False)
