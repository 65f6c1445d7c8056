"""Plans of the orders graph, held to Strawberry (tests/execution/differential.py): the viewer's and
one order's subtrees in one statement, pages, fragments, directives, row rules, refusals, a line's
books from the inventory, and an orders store that is down."""

from __future__ import annotations

import contextlib
import uuid
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from differential import ORDERS_ONLY, Both, fallbacks
from support import comparable, token_for

from auth.viewer import Role
from checkout.faults import Faults, InjectedFault
from checkout.saga import LineRequest, checkout_for
from config import Settings
from datasources.inventory.source import InventorySource
from datasources.stores import Stores

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


async def test_the_comparison_shape_is_one_statement_with_the_same_json(both: Both) -> None:
    body = await both(ORDERS_ONLY)
    orders = body["data"]["viewer"]["orders"]["edges"]
    assert len(orders) > 3 and all(edge["node"]["lines"] for edge in orders)
    assert body["extensions"]["cost"]["actualQueryCost"] > len(orders)
    assert both.statements == {"inventory": 0, "orders": 1}


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


async def test_a_relation_with_a_page_below_it_is_a_level_of_its_own(both: Both) -> None:
    """An order's customer, and that customer's orders with their lines: the customer is a level
    the page joins; the lines and the events, which nothing joins, are read where they are written."""
    listed = await both("{ viewer { orders(first: 1) { edges { node { id } } } } }")
    order_id = listed["data"]["viewer"]["orders"]["edges"][0]["node"]["id"]
    body = await both(
        """query($id: ID!) { order(id: $id) { number events { toStatus } customer { name
             orders(first: 3) { totalCount edges { node { number lines { quantity } customer { id } } } } } } }""",
        {"id": order_id},
    )
    orders = body["data"]["order"]["customer"]["orders"]["edges"]
    assert orders and all(edge["node"]["lines"] for edge in orders)
    assert both.statements == {"inventory": 0, "orders": 1}


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


async def test_a_lines_books_come_from_the_inventory_in_one_batch_per_relation(both: Both) -> None:
    query = (
        "{ viewer { orders(first: 20) { edges { node { lines { book { __typename id title genres "
        "price { amount currency } authors { id name } stock { available status } } } } } } } }"
    )
    body = await both(query)
    books = [line["book"] for e in body["data"]["viewer"]["orders"]["edges"] for line in e["node"]["lines"]]
    assert len(books) > 5 and all(book["authors"] and book["stock"]["status"] for book in books)
    # The orders subtree, then one inventory statement per relation: books, authors, genres, stock.
    assert both.statements == {"inventory": 4, "orders": 1}


async def test_books_in_two_places_are_loaded_together(both: Both) -> None:
    # `both` holds the plan's inventory statements to Strawberry's: one batch for both places.
    body = await both(
        "{ viewer { orders(first: 5) { edges { node { a: lines { book { title } } "
        "b: lines { book { id authors { name } } } } } } } }"
    )
    node = body["data"]["viewer"]["orders"]["edges"][0]["node"]
    assert node["a"][0]["book"]["title"] and node["b"][0]["book"]["authors"]


async def test_an_orders_store_that_is_down_answers_as_the_general_path_does(settings: Settings) -> None:
    import socket

    from app import create_app

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed once the block ends: nothing listens there
    broken = settings.model_copy(
        update={
            "orders_database_url": f"postgresql+asyncpg://postgres@127.0.0.1:{port}/nothing",
            "store_connect_timeout_seconds": 1.0,
        }
    )
    answers = []
    before = fallbacks("error")
    for compiled in (True, False):
        application = create_app(broken.model_copy(update={"compiled_execution": compiled}))
        async with application.router.lifespan_context(application):
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
                response = await http.post(
                    "/graphql",
                    json={"query": ORDERS_ONLY},
                    headers={"Authorization": f"Bearer {token_for(broken, 'demo-customer-1')}"},
                )
                answers.append((response.status_code, comparable(response.json())))
    assert answers[0] == answers[1]
    status, body = answers[0]
    assert status == 200 and body["data"] == {"viewer": None}
    assert [e["extensions"]["code"] for e in body["errors"]] == ["SOURCE_UNAVAILABLE"]
    assert fallbacks("error") - before == 1


@pytest.mark.parametrize("point", ["after_pending", "after_reserve", "before_confirm", "after_confirm"])
async def test_orders_a_fault_left_behind_read_the_same_through_both_paths(
    both: Both, settings: Settings, stores: Stores, point: str
) -> None:
    """Each checkout fault point armed in turn: whatever the failed checkout left (an order
    PENDING, REJECTED or CONFIRMED, its events and lines), the plan writes as Strawberry does."""
    subject = f"faulted-{point}"
    await both.general.post("{ viewer { id } }", as_=subject)
    async with stores.orders.connect() as conn:
        customer = (
            await conn.execute(sa.text("SELECT id FROM customers WHERE subject = :s"), {"s": subject})
        ).scalar_one()
    checkout = checkout_for(settings, stores, follow_index=False)
    checkout.faults = Faults({point: "error"})
    with contextlib.suppress(InjectedFault):
        await checkout.place(
            customer, f"{point}-{uuid.uuid4().hex}", [LineRequest(2, 1)], InventorySource(stores.inventory)
        )
    body = await both(EVERYTHING, {"first": 5}, as_=subject)
    edges = body["data"]["viewer"]["orders"]["edges"]
    assert len(edges) == 1, point
    order = await both(ORDER, {"id": edges[0]["node"]["id"]}, as_=subject)
    assert order["data"]["order"]["status"] == edges[0]["node"]["status"]
