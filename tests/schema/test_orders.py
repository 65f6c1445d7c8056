"""Customers and orders: identity from the token, and a customer sees only their own orders."""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import SecretStr
from support import error_codes

from auth.tokens import issue_token
from auth.viewer import Role
from config import Settings
from schema.relay import to_global_id

VIEWER = "{ viewer { id name email orders(first: 5) { totalCount edges { node { id number status total { amount } lines { quantity unitPrice { amount } subtotal { amount } bookId book { id title } } } } } } }"


async def test_viewer_is_null_without_a_token(gql: Any) -> None:
    body = await gql(VIEWER)
    assert body["data"] == {"viewer": None} and "errors" not in body


async def test_customer_is_created_on_first_sight_from_token_claims(gql: Any) -> None:
    body = await gql(VIEWER, as_="first-sight-customer", name="Ada Reader", email="ada@example.com")
    viewer = body["data"]["viewer"]
    assert viewer["name"] == "Ada Reader" and viewer["email"] == "ada@example.com"
    assert viewer["orders"] == {"totalCount": 0, "edges": []}
    again = await gql(VIEWER, as_="first-sight-customer")
    assert again["data"]["viewer"]["id"] == viewer["id"]


async def test_demo_customer_sees_their_order_history(gql: Any) -> None:
    body = await gql(VIEWER, as_="demo-customer-1")
    assert "errors" not in body
    orders = body["data"]["viewer"]["orders"]
    assert orders["totalCount"] > 0
    for edge in orders["edges"]:
        order = edge["node"]
        subtotals = sum(float(line["subtotal"]["amount"]) for line in order["lines"])
        assert abs(subtotals - float(order["total"]["amount"])) < 0.005
        for line in order["lines"]:
            assert float(line["subtotal"]["amount"]) == round(
                line["quantity"] * float(line["unitPrice"]["amount"]), 2
            )
            assert line["book"]["title"] and line["book"]["id"] == line["bookId"]


async def first_order_of(gql: Any, subject: str) -> dict[str, Any]:
    body = await gql("{ viewer { orders(first: 1) { edges { node { id number } } } } }", as_=subject)
    return body["data"]["viewer"]["orders"]["edges"][0]["node"]


async def test_a_customer_cannot_read_another_customers_order(gql: Any) -> None:
    order = await first_order_of(gql, "demo-customer-1")
    own = await gql(
        "query ($id: ID!) { order(id: $id) { number } }", {"id": order["id"]}, as_="demo-customer-1"
    )
    assert own["data"] == {"order": {"number": order["number"]}} and "errors" not in own

    foreign = await gql(
        "query ($id: ID!) { order(id: $id) { number lines { quantity } } }",
        {"id": order["id"]},
        as_="demo-customer-2",
    )
    assert foreign["data"] == {"order": None}
    # Answered exactly as an order that does not exist: other customers learn nothing of it.
    missing = await gql(
        "query ($id: ID!) { order(id: $id) { number lines { quantity } } }",
        {"id": to_global_id("Order", 10**9)},
        as_="demo-customer-2",
    )
    assert error_codes(foreign) == ["NOT_FOUND"]
    assert [e["message"] for e in foreign["errors"]] == [e["message"] for e in missing["errors"]]

    via_node = await gql(
        "query ($id: ID!) { node(id: $id) { ... on Order { number } } }",
        {"id": order["id"]},
        as_="demo-customer-2",
    )
    assert via_node["data"] == {"node": None} and error_codes(via_node) == ["NOT_FOUND"]

    anonymous = await gql("query ($id: ID!) { order(id: $id) { number } }", {"id": order["id"]})
    assert anonymous["data"] == {"order": None} and error_codes(anonymous) == ["UNAUTHENTICATED"]

    admin = await gql(
        "query ($id: ID!) { order(id: $id) { number customer { name } } }",
        {"id": order["id"]},
        as_="ops",
        role=Role.ADMIN,
    )
    assert admin["data"]["order"]["number"] == order["number"]


async def test_customer_node_is_visible_only_to_that_customer(gql: Any) -> None:
    me = (await gql("{ viewer { id } }", as_="demo-customer-3"))["data"]["viewer"]["id"]
    mine = await gql("query ($id: ID!) { node(id: $id) { id } }", {"id": me}, as_="demo-customer-3")
    assert mine["data"] == {"node": {"id": me}} and "errors" not in mine
    theirs = await gql("query ($id: ID!) { node(id: $id) { id } }", {"id": me}, as_="demo-customer-4")
    assert theirs["data"] == {"node": None} and error_codes(theirs) == ["NOT_FOUND"]


async def test_unknown_order_is_not_found(gql: Any) -> None:
    body = await gql('{ order(id: "T3JkZXI6OTk5OTk5OTk") { number } }', as_="demo-customer-1")
    assert body["data"] == {"order": None} and error_codes(body) == ["NOT_FOUND"]


async def test_orders_filter_by_status_and_paginate(gql: Any) -> None:
    query = """
    query ($after: String, $status: [OrderStatus!]) {
      viewer { orders(first: 2, after: $after, status: $status) {
        totalCount pageInfo { hasNextPage endCursor } edges { node { number status placedAt } } } }
    }"""
    all_orders = await gql(query.replace("first: 2", "first: 100"), {"status": None}, as_="demo-customer-1")
    everything = all_orders["data"]["viewer"]["orders"]
    delivered = [e["node"] for e in everything["edges"] if e["node"]["status"] == "DELIVERED"]
    seen: list[dict[str, Any]] = []
    after = None
    while True:
        body = await gql(query, {"after": after, "status": ["DELIVERED"]}, as_="demo-customer-1")
        connection = body["data"]["viewer"]["orders"]
        seen += [e["node"] for e in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    assert seen == delivered and connection["totalCount"] == len(delivered)
    placed = [o["placedAt"] for o in seen]
    assert placed == sorted(placed, reverse=True)


async def test_a_bad_token_is_refused_with_401(client: httpx.AsyncClient, settings: Settings) -> None:
    expired = issue_token(settings, "demo-customer-1", ttl_seconds=-3600)
    forged = issue_token(settings.model_copy(update={"jwt_secret": SecretStr("x" * 40)}), "demo-customer-1")
    for token in (expired, forged, "not.a.jwt"):
        response = await client.post(
            "/graphql", json={"query": "{ viewer { id } }"}, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 401
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_a_relative_data_dir_becomes_absolute() -> None:
    # The embedded PostgreSQL's socket path comes from it; a relative one reads as a host name.
    assert Settings(data_dir="var/somewhere").data_dir.is_absolute()  # type: ignore[arg-type]


async def test_aliases_and_fragments_do_not_get_around_the_row_rule(gql: Any) -> None:
    order = await first_order_of(gql, "demo-customer-1")
    body = await gql(
        """query ($id: ID!) {
          mine: viewer { id }
          a: order(id: $id) { number }
          b: node(id: $id) { ...O }
          c: nodes(ids: [$id]) { ...O }
        }
        fragment O on Order { number total { amount } }""",
        {"id": order["id"]},
        as_="demo-customer-2",
    )
    assert body["data"]["a"] is None and body["data"]["b"] is None and body["data"]["c"] == [None]
    assert error_codes(body) == ["NOT_FOUND"] * 3
    assert order["number"] not in str(body)
