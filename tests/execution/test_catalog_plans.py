"""Plans beyond the orders store, held to Strawberry (tests/execution/differential.py): the catalog,
a book with its recommendation lists, search, the home page, every trusted document and drawn ones."""

from __future__ import annotations

from typing import Any

import pytest
from differential import Both, fallbacks
from starlette.applications import Starlette
from support import DrawnQueries, GraphQLClient

from auth.viewer import Role
from gateway.persisted import MANIFEST_PATH, Manifest

CATALOG = """
query Catalog($first: Int!, $after: String, $filter: BookFilter, $orderBy: BookOrder) {
  genres { bookCount name __typename }
  books(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {
    __typename
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor __typename }
    edges {
      cursor
      node {
        id isbn title description publishedYear genres __typename
        price { amount currency } authors { id name } stock { onHand reserved available status }
      }
    }
  }
  viewer { name }
}
"""


@pytest.mark.parametrize(
    "variables",
    [
        {"first": 5},
        {"first": 0},
        {"first": 7, "orderBy": {"field": "PRICE", "direction": "DESC"}},
        {"first": 4, "orderBy": {"field": "PUBLISHED_YEAR", "direction": "ASC"}},
        {"first": 6, "filter": {"genres": ["Fantasy", "Romance"], "inStock": True}},
        {"first": 3, "filter": {"priceRange": {"min": "5.00", "max": "15.00"}, "titleContains": "the"}},
        {"first": 3, "filter": {"publishedYearRange": {"min": 2000, "max": 2010}}},
    ],
)
async def test_the_catalog_pages_filters_and_orders(both: Both, variables: dict[str, Any]) -> None:
    body = await both(CATALOG, variables)
    books = body["data"]["books"]
    assert len(books["edges"]) == min(variables["first"], books["totalCount"])
    assert list(body["data"]) == ["genres", "books", "viewer"]  # the selection's order


async def test_the_catalog_follows_its_cursors(both: Both) -> None:
    order = {"field": "PRICE", "direction": "ASC"}
    first = await both(CATALOG, {"first": 3, "orderBy": order})
    cursor = first["data"]["books"]["pageInfo"]["endCursor"]
    second = await both(CATALOG, {"first": 3, "orderBy": order, "after": cursor})
    assert second["data"]["books"]["pageInfo"]["hasPreviousPage"] is True
    # Another ordering's cursor, and a filter that contradicts itself: the general path says why.
    await both(CATALOG, {"first": 3, "after": cursor}, planned=False)
    contradiction = {"first": 3, "filter": {"priceRange": {"min": "9", "max": "1"}}}
    refused = await both(CATALOG, contradiction, planned=False)
    assert refused["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_fields_of_other_stores_and_mutations_run_on_strawberry(both: Both) -> None:
    failures = fallbacks("error")
    await both(
        "{ viewer { orders(first: 2) { edges { node { lines { book { similarBooks(first: 2) { score } } } } } } } }",
        planned=False,
    )
    await both(
        '{ searchBooks(query: "dragons", first: 2) { edges { node { similarBooks { score } } } } }',
        planned=False,
    )
    await both(
        "{ viewer { name } books(first: 1) { edges { node { alsoBought { score } } } } }", planned=False
    )
    await both("{ __typename viewer { name } }", planned=False)
    await both("{ __schema { queryType { name } } }", as_="a-partner", role=Role.PARTNER, planned=False)
    refused = await both(
        'mutation { cancelOrder(id: "Qm9vazox") { order { id } userErrors { code } } }', planned=False
    )
    assert refused["data"]["cancelOrder"]["userErrors"] == [{"code": "UNKNOWN_ORDER"}]
    # Each was a decision of the planner, not a plan that failed.
    assert fallbacks("error") == failures


BOOK = """
query Book($id: ID, $isbn: String, $first: Int!) {
  book(id: $id, isbn: $isbn) {
    __typename id title genres
    stock { status available }
    later: alsoBought(first: $first) { __typename score strategy reason book { id title stock { status } } }
    price { amount currency }
    similarBooks(first: $first) { reason score strategy book { title authors { name } price { amount } } }
    authors { id name }
    close: similarBooks(first: 2) { book { id } }
  }
}
"""


async def test_a_book_with_its_recommendation_lists(both: Both) -> None:
    body = await both(BOOK, {"id": "Qm9vazox", "first": 6}, cached=True)
    book = body["data"]["book"]
    assert list(book) == [
        "__typename", "id", "title", "genres", "stock", "later", "price", "similarBooks", "authors", "close",
    ]  # fmt: skip
    assert book["similarBooks"] and len(book["close"]) == 2
    assert {r["strategy"] for r in book["similarBooks"]} == {"CONTENT"}
    # The bought-together lists come from the order history: some book has one.
    sold = await both("{ viewer { orders(first: 1) { edges { node { lines { bookId } } } } } }")
    sold_id = sold["data"]["viewer"]["orders"]["edges"][0]["node"]["lines"][0]["bookId"]
    isbn = (await both("query($id: ID!) { book(id: $id) { isbn } }", {"id": sold_id}))["data"]["book"]["isbn"]
    body = await both(BOOK, {"isbn": isbn, "first": 3}, cached=True)
    assert body["data"]["book"]["later"], "a sold book has others bought with it"
    assert {r["strategy"] for r in body["data"]["book"]["later"]} == {"CO_PURCHASE"}


@pytest.mark.parametrize(
    ("variables", "reason"),
    [
        ({"id": "Qm9vazo5OTk5OTk5", "first": 2}, "not_found"),  # Book:9999999
        ({"id": "Qm9vazox", "isbn": "9780000000000", "first": 2}, "arguments"),
        ({"first": 2}, "arguments"),
        ({"id": "Qm9vazox", "first": 0}, "arguments"),
        ({"id": "T3JkZXI6MQ", "first": 2}, "arguments"),  # an Order's ID
    ],
)
async def test_a_book_the_resolver_refuses_is_answered_by_the_general_path(
    both: Both, variables: dict[str, Any], reason: str
) -> None:
    before = fallbacks(reason)
    body = await both(BOOK, variables, planned=False)
    assert body["data"] == {"book": None} and body["errors"]
    assert fallbacks(reason) - before == 1


SEARCH = """
query Search($query: String!, $first: Int!, $after: String, $filter: BookFilter) {
  searchBooks(query: $query, first: $first, after: $after, filter: $filter) {
    __typename
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { score cursor __typename node { id title genres stock { available status } price { amount } } }
  }
}
"""


async def test_search_pages_and_filters(both: Both) -> None:
    first = await both(SEARCH, {"query": "dragons and magic", "first": 3})
    page = first["data"]["searchBooks"]
    assert len(page["edges"]) == 3 and page["pageInfo"]["hasNextPage"]
    after = page["pageInfo"]["endCursor"]
    second = await both(SEARCH, {"query": "dragons and magic", "first": 3, "after": after})
    assert second["data"]["searchBooks"]["pageInfo"]["hasPreviousPage"]
    genre = page["edges"][0]["node"]["genres"][0]
    filtered = await both(
        SEARCH, {"query": "a mystery", "first": 5, "filter": {"genres": [genre], "inStock": True}}
    )
    assert all(genre in e["node"]["genres"] for e in filtered["data"]["searchBooks"]["edges"])
    for refused in (
        {"query": "   ", "first": 3},
        {"query": "dragons", "first": 0},
        {"query": "dragons", "first": 3, "after": "bm90IGEgY3Vyc29y"},
        {"query": "other words", "first": 3, "after": after},  # another query's cursor
    ):
        body = await both(SEARCH, refused, planned=False)
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


HOME = """
query Home($genre: String) {
  viewer {
    name
    picks: recommendations(first: 4) { score reason strategy book { id title price { amount } stock { status } } }
    orders(first: 3) { edges { node { number total { amount } } } }
    co: recommendations(first: 3, strategy: CO_PURCHASE) { book { id } }
  }
  trendingBooks(first: 5) { score reason book { id title authors { name } } }
  inGenre: trendingBooks(first: 3, genre: $genre) { reason book { genres } }
}
"""


async def test_the_viewers_recommendations_and_the_trending_books(both: Both) -> None:
    genres = await both("{ genres { name } }")
    genre = genres["data"]["genres"][0]["name"]
    body = await both(HOME, {"genre": genre}, as_="demo-customer-2", cached=True)
    viewer = body["data"]["viewer"]
    assert len(viewer["picks"]) == 4 and len(viewer["co"]) == 3
    assert body["data"]["trendingBooks"] and all(
        genre in r["book"]["genres"] for r in body["data"]["inGenre"]
    )
    # Personal lists are the viewer's own: through another customer's order, the general path decides.
    await both(
        "query($id: ID!) { order(id: $id) { customer { recommendations(first: 2) { score } } } }",
        {"id": "T3JkZXI6MQ"},
        as_="an-admin",
        role=Role.ADMIN,
        planned=False,
    )
    before = fallbacks("arguments")
    await both("{ viewer { recommendations(first: 0) { score } } }", planned=False)
    assert fallbacks("arguments") - before == 1


async def test_the_trusted_documents_give_the_same_answers(both: Both, gql: GraphQLClient) -> None:
    listed = await both("{ viewer { orders(first: 1) { edges { node { id } } } } }")
    order_id = listed["data"]["viewer"]["orders"]["edges"][0]["node"]["id"]
    variables = {"OrderDetail": {"id": order_id}, "OrderHistory": {"first": 5}}
    for operation in Manifest.load(MANIFEST_PATH).operations.values():
        if operation.type != "query":
            continue
        given = variables.get(operation.name, {"id": "Qm9vazox", "first": 3, "query": "dragons"})
        planned = True
        await both(operation.body, given, planned=planned, cached=True)


@pytest.mark.parametrize("seed", range(40))
async def test_drawn_documents_give_the_same_answers(both: Both, seed: int) -> None:
    queries = DrawnQueries(seed)
    document = queries.document()
    body = await both(document, {"flag": seed % 2 == 0} if queries.flagged else {}, as_="demo-customer-3")
    assert "errors" not in body, document


def test_the_trusted_documents_plans_can_serve_are_planned_before_any_request(app: Starlette) -> None:
    from execution.plans import Planner
    from gateway.services import services

    plans = services(app).plans
    assert plans is not None
    # A planner of its own, as start-up makes one: nothing has been asked of it yet.
    operations = Manifest.load(MANIFEST_PATH).operations.values()
    fresh = Planner(plans.planner.schema, plans.planner.weights, plans.planner.parse)
    planned = {op.name for op in operations if fresh.warm([(op.body, op.name)]) == 1}
    assert planned == {"BookDetail", "CatalogPage", "Home", "OrderDetail", "OrderHistory", "SearchBooks"}


NODE = """
query Node($id: ID!) {
  node(id: $id) {
    __typename id
    ... on Book { title price { amount } authors { name } stock { status } }
    ... on Order { number status total { amount } lines { quantity book { title } } }
  }
}
"""


async def test_node_is_planned_per_the_type_its_id_names(both: Both) -> None:
    listed = await both("{ viewer { orders(first: 1) { edges { node { id } } } } }")
    order_id = listed["data"]["viewer"]["orders"]["edges"][0]["node"]["id"]
    order = await both(NODE, {"id": order_id})
    assert order["data"]["node"]["__typename"] == "Order" and order["data"]["node"]["lines"]
    assert both.statements["orders"] == 1
    book = await both(NODE, {"id": "Qm9vazox"})  # Book:1, by the same document
    assert book["data"]["node"]["__typename"] == "Book" and "number" not in book["data"]["node"]
    literal = await both('{ node(id: "Qm9vazoy") { id ... on Book { title } } }')
    assert literal["data"]["node"]["title"]
    # Not there, not theirs, not a type a plan serves, not an ID: the general path says why.
    before = fallbacks("not_found")
    missing = await both(NODE, {"id": "Qm9vazo5OTk5OTk5"}, planned=False)  # Book:9999999
    assert missing["errors"][0]["extensions"]["code"] == "NOT_FOUND" and fallbacks("not_found") > before
    await both(NODE, {"id": order_id}, as_="demo-customer-2", planned=False)
    author = await both("{ books(first: 1) { edges { node { authors { id } } } } }")
    author_id = author["data"]["books"]["edges"][0]["node"]["authors"][0]["id"]
    await both(NODE, {"id": author_id}, planned=False)
    refused = await both(NODE, {"id": "%%%"}, planned=False)
    assert refused["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


NODES = """
query Nodes($ids: [ID!]!) {
  nodes(ids: $ids) { __typename id ... on Book { title authors { name } stock { available } } ... on Order { number } }
}
"""


async def test_nodes_of_books_are_planned_in_one_batch(both: Both) -> None:
    ids = ["Qm9vazox", "Qm9vazoz", "Qm9vazoy", "Qm9vazox"]  # Book:1, Book:3, Book:2, Book:1 again
    body = await both(NODES, {"ids": ids})
    assert [n["id"] for n in body["data"]["nodes"]] == ids
    assert both.statements["inventory"] == 3  # the books, their authors, their stock
    literal = await both('{ nodes(ids: ["Qm9vazoy"]) { ... on Book { title } } }')
    assert literal["data"]["nodes"][0]["title"]
    # A missing book (null beside its error), another type, too many IDs: the general path answers.
    missing = await both(NODES, {"ids": ["Qm9vazox", "Qm9vazo5OTk5OTk5"]}, planned=False)
    assert missing["data"]["nodes"][1] is None and missing["errors"][0]["path"] == ["nodes", 1]
    listed = await both("{ viewer { orders(first: 1) { edges { node { id } } } } }")
    order_id = listed["data"]["viewer"]["orders"]["edges"][0]["node"]["id"]
    await both(NODES, {"ids": ["Qm9vazox", order_id]}, planned=False)
    too_many = await both(NODES, {"ids": ["Qm9vazox"] * 101}, planned=False)
    assert too_many["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    await both("query($a: ID!) { nodes(ids: [$a]) { id } }", {"a": "Qm9vazox"}, planned=False)
