"""Compiled execution is held to Strawberry: the same request through both paths, on the same stores,
gives the same JSON (ignoring nothing but the budget's moving balance), and the plan never sends a
store more statements than the general path does."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from support import DrawnQueries, GraphQLClient, StatementCounter, comparable, token_for

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
        self.planned, self.general = GraphQLClient(planned, settings), GraphQLClient(general, settings)
        self.statements: dict[str, int] = {}  # what the plan app's last request cost each store

    async def __call__(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        as_: str | None = "demo-customer-1",
        role: Role = Role.CUSTOMER,
        planned: bool = True,
        cached: bool = False,
    ) -> dict[str, Any]:
        """The answer both paths agree on; `planned` says which path the plan app must have taken.
        `cached`: the general path answers once before, so that what it caches in Redis (the
        recommendations) is there for both, and neither pays the miss the other does not."""
        if cached:
            await self.general.post(query, variables, as_=as_, role=role)
        before, counter = _executions("plan"), StatementCounter()
        first = await self.planned.post(query, variables, as_=as_, role=role)
        by_plan = self.statements = counter.delta()
        assert (_executions("plan") - before == 1) is planned, first.text
        counter = StatementCounter()
        second = await self.general.post(query, variables, as_=as_, role=role)
        by_strawberry = counter.delta()
        assert first.status_code == second.status_code
        assert comparable(first.json()) == comparable(second.json())
        if planned:  # (a fallback's statements are Strawberry's, after a plan's that found no row)
            for store in StatementCounter.STORES:
                assert by_plan[store] <= by_strawberry[store], (store, by_plan, by_strawberry)
        body: dict[str, Any] = first.json()
        return body


@pytest.fixture
def both(client: httpx.AsyncClient, general_client: httpx.AsyncClient, settings: Settings) -> Both:
    return Both(client, general_client, settings)


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
    failures = _fallbacks("error")
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
    assert _fallbacks("error") == failures


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
    before = _fallbacks(reason)
    body = await both(BOOK, variables, planned=False)
    assert body["data"] == {"book": None} and body["errors"]
    assert _fallbacks(reason) - before == 1


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
    before = _fallbacks("arguments")
    await both("{ viewer { recommendations(first: 0) { score } } }", planned=False)
    assert _fallbacks("arguments") - before == 1


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


def _fallbacks(reason: str) -> float:
    value = REGISTRY.get_sample_value("bookgraph_execution_total", {"path": "fallback", "reason": reason})
    return value or 0.0


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
    before = _fallbacks("error")
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
    assert _fallbacks("error") - before == 1


def test_the_trusted_documents_plans_can_serve_are_planned_before_any_request(app: Any) -> None:
    from execution.plans import Planner
    from gateway.services import services

    plans = services(app).plans
    assert plans is not None
    # A planner of its own, as start-up makes one: nothing has been asked of it yet.
    operations = Manifest.load(MANIFEST_PATH).operations.values()
    fresh = Planner(plans.planner.schema, plans.planner.weights, plans.planner.parse)
    planned = {op.name for op in operations if fresh.warm([(op.body, op.name)]) == 1}
    assert planned == {"BookDetail", "CatalogPage", "Home", "OrderDetail", "OrderHistory", "SearchBooks"}
