"""Every relation goes through a DataLoader: statements per request depend on depth, never on size."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from catalog.records import CustomerRecord, OrderLineRecord, OrderRecord
from datasources.inventory.tables import books
from datasources.orders.bulk import write_customers, write_orders
from datasources.stores import Stores

HEAVY_BUYER = "batching-heavy-buyer"


@pytest.fixture(scope="session")
async def heavy_buyer(stores: Stores) -> str:
    """A customer with 60 orders of three lines each, so pages of 5 and 50 are both full."""
    import sqlalchemy as sa

    async with stores.inventory.connect() as conn:
        rows = (await conn.execute(sa.select(books.c.isbn, books.c.id, books.c.price_cents).limit(90))).all()
    catalog = {r.isbn: (r.id, r.price_cents) for r in rows}
    isbns = list(catalog)
    ids = await write_customers(
        stores.orders, [CustomerRecord(HEAVY_BUYER, "Heavy Buyer", "heavy@example.com", ())]
    )
    start = datetime(2026, 1, 1, tzinfo=UTC)
    history = [
        OrderRecord(
            number=f"BATCH-{i:04d}",
            customer_subject=HEAVY_BUYER,
            placed_at=start + timedelta(hours=i),
            status="DELIVERED",
            lines=tuple(OrderLineRecord(isbns[(i * 3 + j) % len(isbns)], 1 + j % 2) for j in range(3)),
        )
        for i in range(60)
    ]
    await write_orders(stores.orders, history, catalog, ids)
    return HEAVY_BUYER


ORDER_HISTORY = """
query ($first: Int!) {
  viewer {
    orders(first: $first) {
      edges { node { number lines { quantity book { title authors { name } stock { available } } } } }
    }
  }
}
"""


async def measure(
    gql: Any, counter: Any, query: str, variables: dict[str, Any], **auth: Any
) -> tuple[dict[str, int], dict[str, Any]]:
    # A first run warms caches that are not per request (parsed documents, pool connections).
    await gql(query, variables, **auth)
    counting = counter()
    body = await gql(query, variables, **auth)
    assert "errors" not in body, body
    return counting.delta(), body["data"]


async def test_order_history_costs_one_statement_per_store_level(
    gql: Any, general_gql: Any, count_statements: Any, heavy_buyer: str
) -> None:
    small, data5 = await measure(general_gql, count_statements, ORDER_HISTORY, {"first": 5}, as_=heavy_buyer)
    large, data50 = await measure(
        general_gql, count_statements, ORDER_HISTORY, {"first": 50}, as_=heavy_buyer
    )

    assert len(data5["viewer"]["orders"]["edges"]) == 5
    assert len(data50["viewer"]["orders"]["edges"]) == 50
    assert all(len(e["node"]["lines"]) == 3 for e in data50["viewer"]["orders"]["edges"])
    # orders: viewer's customer, the page of orders, their lines; inventory: books, authors, stock.
    assert small == large == {"orders": 3, "inventory": 3}
    # Its plan: the orders subtree in one statement, the books' relations one each.
    planned, same = await measure(gql, count_statements, ORDER_HISTORY, {"first": 50}, as_=heavy_buyer)
    assert planned == {"orders": 1, "inventory": 3} and same == data50


CATALOG_PAGE = """
query ($first: Int!) {
  books(first: $first, orderBy: {field: PRICE, direction: DESC}) {
    edges { node { title genres price { amount } authors { name } stock { status } } }
  }
}
"""


async def test_catalog_page_statements_do_not_grow_with_page_size(
    gql: Any, count_statements: Any, stores: Stores
) -> None:
    small, data5 = await measure(gql, count_statements, CATALOG_PAGE, {"first": 5})
    large, data50 = await measure(gql, count_statements, CATALOG_PAGE, {"first": 50})
    assert len(data5["books"]["edges"]) == 5 and len(data50["books"]["edges"]) == 50
    # the page, genres, authors, stock
    assert small == large == {"orders": 0, "inventory": 4}


NESTED_AUTHOR_BOOKS = """
query ($first: Int!) {
  books(first: $first) {
    totalCount
    edges { node { authors { name books(first: 3) { totalCount edges { node { title stock { available } } } } } } }
  }
}
"""


async def test_nested_author_books_batch_across_authors(gql: Any, count_statements: Any) -> None:
    small, _ = await measure(gql, count_statements, NESTED_AUTHOR_BOOKS, {"first": 5})
    large, data = await measure(gql, count_statements, NESTED_AUTHOR_BOOKS, {"first": 50})
    authors = [a for e in data["books"]["edges"] for a in e["node"]["authors"]]
    assert len({a["name"] for a in authors}) > 5
    assert all(a["books"]["edges"] and a["books"]["totalCount"] >= len(a["books"]["edges"]) for a in authors)
    # page + count, authors, author books page + its counts, stock of those books
    assert small == large == {"orders": 0, "inventory": 6}


ORDER_DETAILS = """
query ($first: Int!) {
  viewer { orders(first: $first) { totalCount edges { node { customer { name } events { toStatus } total { amount } } } } }
}
"""


async def test_order_customer_and_events_are_batched(
    gql: Any, general_gql: Any, count_statements: Any, heavy_buyer: str
) -> None:
    small, _ = await measure(general_gql, count_statements, ORDER_DETAILS, {"first": 5}, as_=heavy_buyer)
    large, data = await measure(general_gql, count_statements, ORDER_DETAILS, {"first": 50}, as_=heavy_buyer)
    edges = data["viewer"]["orders"]["edges"]
    assert data["viewer"]["orders"]["totalCount"] == 60
    assert all(e["node"]["customer"]["name"] == "Heavy Buyer" for e in edges)
    assert all([ev["toStatus"] for ev in e["node"]["events"]][-1] == "DELIVERED" for e in edges)
    # viewer (which primes customers_by_id), orders page, order count, events
    assert small == large == {"orders": 4, "inventory": 0}
    # Its plan: the whole subtree in one statement.
    planned, same = await measure(gql, count_statements, ORDER_DETAILS, {"first": 50}, as_=heavy_buyer)
    assert planned == {"orders": 1, "inventory": 0} and same == data


async def test_nodes_by_id_cost_one_statement_per_type(gql: Any, count_statements: Any) -> None:
    page = await gql("{ books(first: 40) { edges { node { id authors { id } } } } }")
    book_ids = [e["node"]["id"] for e in page["data"]["books"]["edges"]]
    author_ids = list({a["id"] for e in page["data"]["books"]["edges"] for a in e["node"]["authors"]})
    query = "query ($ids: [ID!]!) { nodes(ids: $ids) { id ... on Book { title } ... on Author { name } } }"

    small, _ = await measure(gql, count_statements, query, {"ids": book_ids[:4] + author_ids[:2]})
    large, data = await measure(gql, count_statements, query, {"ids": book_ids + author_ids})
    assert [n["id"] for n in data["nodes"]] == book_ids + author_ids
    assert small == large == {"orders": 0, "inventory": 2}


async def test_statement_counter_is_exposed_in_metrics(client: Any, gql: Any) -> None:
    await gql("{ books(first: 1) { edges { node { title } } } }")
    metrics = (await client.get("/metrics")).text
    assert 'bookgraph_store_statements_total{store="inventory"}' in metrics
    assert 'bookgraph_store_statements_total{store="orders"}' in metrics


ORDERS_ONLY = """
query ($first: Int!) {
  viewer { orders(first: $first) { edges { node { number status total { amount } customer { name }
    lines { bookId quantity unitPrice { amount } } } } } }
}
"""


async def test_orders_only_shape_never_touches_inventory(
    gql: Any, general_gql: Any, count_statements: Any, heavy_buyer: str
) -> None:
    small, _ = await measure(general_gql, count_statements, ORDERS_ONLY, {"first": 5}, as_=heavy_buyer)
    large, data = await measure(general_gql, count_statements, ORDERS_ONLY, {"first": 50}, as_=heavy_buyer)
    lines = [line for e in data["viewer"]["orders"]["edges"] for line in e["node"]["lines"]]
    assert len(lines) == 150 and all(line["bookId"] for line in lines)
    # viewer's customer (which also serves `customer`), orders page, lines
    assert small == large == {"orders": 3, "inventory": 0}
    planned, same = await measure(gql, count_statements, ORDERS_ONLY, {"first": 50}, as_=heavy_buyer)
    assert planned == {"orders": 1, "inventory": 0} and same == data
