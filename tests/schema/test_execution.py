"""The inline execution of plain fields (schema/execution.py) against the reference execution:
the same requests to two apps on the same stores must get the same answers, nulls and errors
included, for the trusted operations and for shapes they do not cover."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import sqlalchemy as sa
from starlette.applications import Starlette
from support import ROOT, app_with, http_to, token_for

from auth.viewer import Role
from config import Settings
from datasources.stores import Stores
from schema.execution import plain_field
from schema.relay import to_global_id
from schema.root import schema

OPERATIONS = ROOT / "gql" / "operations"

SHAPES = {
    "fragments, aliases and typenames": """
        query { books(first: 5, orderBy: {field: PRICE, direction: DESC}) {
          totalCount pageInfo { hasNextPage endCursor }
          edges { cursor node { __typename ...Card cheap: price { amount } } }
        } }
        fragment Card on Book { id isbn title publishedYear price { amount currency }
          stock { available status } authors { id name } genres }""",
    "skip and include on variables": """
        query ($full: Boolean!) { books(first: 3) { edges { node {
          title description @include(if: $full) stock @skip(if: $full) { onHand } } } } }""",
    "nodes across types, one unknown": """
        query ($ids: [ID!]!) { nodes(ids: $ids) { __typename id
          ... on Book { title } ... on Author { name } } }""",
    "a bad argument": "{ books(first: 500) { totalCount } }",
    "a book that is not there": '{ book(isbn: "9780000000000") { title } }',
    "genres": "{ genres { name bookCount } }",
    "the viewer's orders": """{ viewer { name email orders(first: 5) { totalCount edges { node {
        number status placedAt total { amount currency }
        lines { quantity unitPrice { amount } subtotal { amount currency } bookId book { title } }
        events { fromStatus toStatus occurredAt note } customer { name } } } } } }""",
    "another customer's order": "query ($id: ID!) { node(id: $id) { id ... on Order { number } } }",
    "an author's books": """query ($id: ID!) { author(id: $id) { name books(first: 3) {
        edges { node { title authors { name } } } } } }""",
}


@pytest.fixture(scope="module")
async def reference(settings: Settings, stores: Stores) -> AsyncIterator[Starlette]:
    async with app_with(settings, stores, execution="reference") as application:
        yield application


@pytest.fixture(scope="module")
async def inline(settings: Settings, stores: Stores) -> AsyncIterator[Starlette]:
    async with app_with(settings, stores) as application:
        yield application


async def variables_for(stores: Stores) -> dict[str, Any]:
    async with stores.inventory.connect() as conn:
        book = (await conn.execute(sa.text("SELECT id FROM books ORDER BY id LIMIT 1"))).scalar_one()
        author = (await conn.execute(sa.text("SELECT id FROM authors ORDER BY id LIMIT 1"))).scalar_one()
    async with stores.orders.connect() as conn:
        order = (
            await conn.execute(
                sa.text(
                    "SELECT o.id FROM orders o JOIN customers c ON c.id = o.customer_id"
                    " WHERE c.subject <> 'demo-customer-1' ORDER BY o.id LIMIT 1"
                )
            )
        ).scalar_one()
    return {
        "id": to_global_id("Order", order),
        "full": True,
        "ids": [to_global_id("Book", book), to_global_id("Author", author), to_global_id("Book", 10**9)],
        "first": 5,
        "query": "a quiet story about the sea",
        "author": to_global_id("Author", author),
        "book": to_global_id("Book", book),
    }


async def answer(application: Starlette, settings: Settings, body: dict[str, Any]) -> dict[str, Any]:
    token = token_for(settings, "demo-customer-1", Role.CUSTOMER)
    async with http_to(application) as http:
        response = await http.post("/graphql", json=body, headers={"Authorization": f"Bearer {token}"})
    answered: dict[str, Any] = response.json()
    answered["status"] = response.status_code
    # The budgets are each app's own; what was charged is compared, not what is left.
    answered.get("extensions", {}).get("cost", {}).pop("throttleStatus", None)
    return answered


def kind(document: str) -> str:
    """query, mutation or subscription: the first word after the comments."""
    return next(line for line in document.splitlines() if line.strip() and not line.startswith("#")).split()[
        0
    ]


def documents() -> list[tuple[str, str]]:
    trusted = [(path.stem, path.read_text()) for path in sorted(OPERATIONS.glob("*.graphql"))]
    return [(name, text) for name, text in trusted if kind(text) == "query"] + list(SHAPES.items())


@pytest.mark.parametrize(("name", "document"), documents(), ids=[n for n, _ in documents()])
async def test_inline_execution_answers_as_the_reference_does(
    name: str, document: str, inline: Starlette, reference: Starlette, settings: Settings, stores: Stores
) -> None:
    variables = await variables_for(stores)
    if name == "an author's books":
        variables["id"] = variables["author"]
    if name in ("BookDetail",):
        variables["id"] = variables["book"]
    body = {"query": document, "variables": variables}
    expected = await answer(reference, settings, body)
    got = await answer(inline, settings, body)
    assert got == expected
    # Every document here runs; its only errors are the client's (a bad argument, a missing book).
    assert "data" in got
    assert {e["extensions"]["code"] for e in got.get("errors", [])} <= {"BAD_USER_INPUT", "NOT_FOUND"}


def test_only_fields_that_read_an_attribute_are_read_inline() -> None:
    book = schema._schema.get_type("Book")
    order = schema._schema.get_type("Order")
    customer = schema._schema.get_type("Customer")
    edge = schema._schema.get_type("BookEdge")
    assert plain_field(book, "title") is not None and plain_field(order, "status") is not None
    assert plain_field(book, "price") is not None and plain_field(edge, "node") is not None
    # A declared relation is read inline from what its parent list prefetched (else resolved).
    authors, lines = plain_field(book, "authors"), plain_field(order, "lines")
    assert authors is not None and authors.relation is not None and authors.is_list
    assert lines is not None and lines.relation is not None
    # Fields with a resolver or arguments, an interface: the reference way.
    assert plain_field(book, "similarBooks") is None
    assert plain_field(customer, "orders") is None
    assert plain_field(schema._schema.query_type, "node") is None


def test_the_trusted_queries_are_all_compared() -> None:
    compared = {name for name, _ in documents() if name not in SHAPES}
    kinds = {path.stem: kind(path.read_text()) for path in OPERATIONS.glob("*.graphql")}
    assert compared == {name for name, k in kinds.items() if k == "query"} and len(compared) >= 6
