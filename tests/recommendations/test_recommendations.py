"""Recommendations on the session's demo data: the strategies, their rules, the Redis cache and
its invalidation, Redis being down, statement counts and bad input."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import socket
import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from support import GraphQLClient, error_codes

from auth.viewer import Role
from config import Settings
from datasources.inventory.source import InventorySource
from datasources.redis.recommendations import CUSTOMER_LISTS, RecommendationCache
from datasources.stores import Stores, redis_client
from gateway.services import services
from recommendations.algorithms import co_purchase_neighbours
from recommendations.recommender import recommender_for
from recommendations.values import Strategy, Weights
from schema.relay import pk_of, to_global_id

RECS = """query ($first: Int!, $strategy: RecommendationStrategy!) {
  viewer { recommendations(first: $first, strategy: $strategy) {
    score strategy reason book { id title authors { name } stock { available } } } } }"""


async def bought_by(stores: Stores, subject: str) -> set[int]:
    async with stores.orders.connect() as conn:
        rows = await conn.execute(
            sa.text(
                "SELECT DISTINCT l.book_id FROM order_lines l JOIN orders o ON o.id = l.order_id "
                "JOIN customers c ON c.id = o.customer_id "
                "WHERE c.subject = :s AND o.status NOT IN ('CANCELLED', 'REJECTED')"
            ),
            {"s": subject},
        )
        return set(rows.scalars())


async def of_books(stores: Stores, select: str, books: set[int], key: str = "book_id") -> set[Any]:
    """The distinct values of one inventory column for these books (`select` names the column)."""
    async with stores.inventory.connect() as conn:
        rows = await conn.execute(
            sa.text(f"{select} WHERE {key} IN :ids").bindparams(sa.bindparam("ids", expanding=True)),
            {"ids": sorted(books)},
        )
        return set(rows.scalars())


async def recommendations(gql: GraphQLClient, subject: str, strategy: str = "HYBRID", first: int = 10) -> Any:
    body = await gql(RECS, {"first": first, "strategy": strategy}, as_=subject)
    assert "errors" not in body, body
    return body["data"]["viewer"]["recommendations"]


def test_co_purchase_similarity_does_not_just_echo_popularity() -> None:
    # Book 1 is in every basket; 2 and 3 are bought together now and then. Raw co-counts would
    # put 1 first for 2; cosine with shrinkage puts 3 first.
    baskets = [[1, 2, 3]] * 4 + [[1, 4]] * 40 + [[1, 2]] * 2
    neighbours = co_purchase_neighbours(baskets)
    assert [book for book, _ in neighbours[2]][:2] == [3, 1]
    assert all(a >= b for (_, a), (_, b) in zip(neighbours[2], neighbours[2][1:], strict=False))


@pytest.mark.parametrize("strategy", ["HYBRID", "CO_PURCHASE", "CONTENT", "TRENDING", "POPULAR_IN_GENRES"])
async def test_each_strategy_recommends_new_books_in_stock(
    gql: GraphQLClient, stores: Stores, strategy: str
) -> None:
    listed = await recommendations(gql, "demo-customer-3", strategy)
    assert len(listed) == 10
    ids = [pk_of(r["book"]["id"], "Book") for r in listed]
    assert len(set(ids)) == 10
    assert not set(ids) & await bought_by(stores, "demo-customer-3")
    assert all(r["book"]["stock"]["available"] > 0 for r in listed)
    assert all(r["strategy"] == strategy and r["reason"] for r in listed)
    scores = [r["score"] for r in listed]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= score <= 1.0 for score in scores), scores  # one scale for every strategy


async def test_popular_in_genres_keeps_to_the_genres_the_customer_buys(
    gql: GraphQLClient, stores: Stores
) -> None:
    subject = "demo-customer-3"
    theirs = await of_books(stores, "SELECT genre FROM book_genres", await bought_by(stores, subject))
    query = """{ viewer { recommendations(strategy: POPULAR_IN_GENRES, first: 20) {
      reason book { genres } } } }"""
    listed = (await gql(query, as_=subject))["data"]["viewer"]["recommendations"]
    assert len(listed) >= 10  # the session's small catalog has few books in stock per genre
    for recommendation in listed:
        assert set(recommendation["book"]["genres"]) & theirs
        # The reason names the genre it is popular in, one of the customer's.
        named = [genre for genre in recommendation["book"]["genres"] if genre in recommendation["reason"]]
        assert named and set(named) & theirs, recommendation


async def test_reasons_name_a_book_the_customer_bought(gql: GraphQLClient, stores: Stores) -> None:
    titles = await of_books(
        stores, "SELECT title FROM books", await bought_by(stores, "demo-customer-3"), "id"
    )
    listed = await recommendations(gql, "demo-customer-3", "CONTENT")
    for r in listed:
        assert r["reason"].startswith("Because you bought “")
        assert r["reason"].removeprefix("Because you bought “").removesuffix("”") in titles


@pytest.mark.parametrize("strategy", ["HYBRID", "POPULAR_IN_GENRES"])
async def test_a_customer_with_no_history_gets_trending(gql: GraphQLClient, strategy: str) -> None:
    # No purchase says which genres: the whole shop's trending list, rather than nothing.
    listed = await recommendations(gql, "brand-new-reader", strategy)
    trending = (await gql("{ trendingBooks(first: 30) { book { id stock { available } } } }"))["data"]
    in_stock = [t["book"]["id"] for t in trending["trendingBooks"] if t["book"]["stock"]["available"] > 0]
    assert [r["strategy"] for r in listed] == ["TRENDING"] * len(listed)
    assert [r["book"]["id"] for r in listed] == in_stock[: len(listed)]
    assert len(listed) == 10


async def test_also_bought_lists_books_the_same_customers_bought(gql: GraphQLClient, stores: Stores) -> None:
    async with stores.orders.connect() as conn:
        book = (
            await conn.execute(
                sa.text(
                    "SELECT book_id FROM order_lines GROUP BY book_id ORDER BY count(*) DESC, book_id LIMIT 1"
                )
            )
        ).scalar_one()
        together = set(
            (
                await conn.execute(
                    sa.text(
                        "SELECT DISTINCT b.book_id FROM order_lines a JOIN orders oa ON oa.id = a.order_id "
                        "JOIN orders ob ON ob.customer_id = oa.customer_id "
                        "JOIN order_lines b ON b.order_id = ob.id AND b.book_id <> a.book_id "
                        "WHERE a.book_id = :b AND oa.status NOT IN ('CANCELLED', 'REJECTED') "
                        "AND ob.status NOT IN ('CANCELLED', 'REJECTED')"
                    ),
                    {"b": book},
                )
            ).scalars()
        )
    body = await gql(
        "query ($id: ID!) { book(id: $id) { title alsoBought(first: 5) { score strategy reason book { id } } } }",
        {"id": to_global_id("Book", book)},
    )
    listed = body["data"]["book"]["alsoBought"]
    assert listed and {pk_of(r["book"]["id"], "Book") for r in listed} <= together
    assert all(0.0 < r["score"] <= 1.0 for r in listed)
    title = body["data"]["book"]["title"]
    assert all(r["strategy"] == "CO_PURCHASE" and title in r["reason"] for r in listed)


async def test_trending_in_a_genre_stays_in_that_genre(gql: GraphQLClient) -> None:
    top = (await gql("{ trendingBooks(first: 1) { book { genres } } }"))["data"]["trendingBooks"]
    genre = top[0]["book"]["genres"][0]
    body = await gql(
        "query ($g: String) { trendingBooks(first: 30, genre: $g) { score reason book { genres } } }",
        {"g": genre},
    )
    listed = body["data"]["trendingBooks"]
    assert len(listed) >= 5
    assert all(genre in r["book"]["genres"] for r in listed)
    # The small session history sells few books of a genre in a month: earlier months, then all-time
    # best sellers fill the list, after every recent one, and the reasons say which.
    kinds = [_popular_kind(r["reason"], genre) for r in listed]
    assert kinds[0] == "recent" and kinds == sorted(kinds, key=["recent", "month", "all-time"].index)
    scores = [r["score"] for r in listed]
    assert scores == sorted(scores, reverse=True)
    # Sales as a share of the list's first, not raw counts.
    assert scores[0] == 1.0 and all(0.0 < score <= 1.0 for score in scores)


def _popular_kind(reason: str, genre: str) -> str:
    if reason == f"Popular in {genre} lately":
        return "recent"
    if reason == f"A best seller in {genre}":
        return "all-time"
    assert re.fullmatch(rf"Popular in {re.escape(genre)} in [A-Z][a-z]+ 20\d\d", reason), reason
    return "month"


async def test_a_second_read_is_served_from_redis(gql: GraphQLClient, count_statements: Any) -> None:
    first = await recommendations(gql, "demo-customer-5", "CO_PURCHASE")
    counter = count_statements()
    again = await recommendations(gql, "demo-customer-5", "CO_PURCHASE")
    assert again == first
    # Only the viewer lookup; the history and co-purchase statements were not needed.
    assert counter.delta()["orders"] == 1


async def test_hydrating_ten_or_a_hundred_costs_the_same_statements(
    gql: GraphQLClient, count_statements: Any
) -> None:
    costs = []
    for first in (10, 100):
        await recommendations(gql, "demo-customer-6", "HYBRID", first)  # warm the cache
        counter = count_statements()
        listed = await recommendations(gql, "demo-customer-6", "HYBRID", first)
        costs.append(counter.delta())
        assert len(listed) > (50 if first == 100 else 9)
    assert costs[0] == costs[1]


async def test_an_order_forgets_the_customers_cached_lists(
    settings: Settings, stores: Stores, gql: GraphQLClient
) -> None:
    subject = "demo-customer-7"
    await recommendations(gql, subject)
    cache = RecommendationCache(stores.redis, settings.redis_key_prefix, settings.recs_ttl_seconds)
    customer = (await gql("{ viewer { id } }", as_=subject))["data"]["viewer"]["id"]
    customer_pk = pk_of(customer, "Customer")
    assert await cache.customer_list(customer_pk, "HYBRID") is not None
    book = (await recommendations(gql, subject))[0]["book"]["id"]

    placed = await gql(
        "mutation ($input: PlaceOrderInput!) { placeOrder(input: $input) { order { status } } }",
        {"input": {"idempotencyKey": "recs-invalidation", "lines": [{"bookId": book, "quantity": 1}]}},
        as_=subject,
    )
    assert placed["data"]["placeOrder"]["order"]["status"] == "CONFIRMED"
    for _ in range(50):  # the event reaches this process's listener over Redis
        if await cache.customer_list(customer_pk, "HYBRID") is None:
            break
        await asyncio.sleep(0.05)
    assert await cache.customer_list(customer_pk, "HYBRID") is None
    # The book just bought is no longer recommended.
    assert book not in [r["book"]["id"] for r in await recommendations(gql, subject)]


async def test_with_redis_down_recommendations_come_from_the_stores(
    settings: Settings, stores: Stores
) -> None:
    dead = redis_client("redis://127.0.0.1:1/0", 0.5)
    # Compared with a working Redis that has nothing cached yet: both compute from the stores.
    healthy = dataclasses.replace(
        recommender_for(settings, stores),
        cache=RecommendationCache(stores.redis, f"{settings.redis_key_prefix}{uuid.uuid4().hex}:", 60),
    )
    broken = dataclasses.replace(healthy, cache=RecommendationCache(dead, settings.redis_key_prefix, 60))

    async with stores.orders.connect() as conn:
        customer = (
            await conn.execute(sa.text("SELECT id FROM customers WHERE subject = 'demo-customer-8'"))
        ).scalar_one()
    stock = InventorySource(stores.inventory)
    expected = await healthy.for_customer(customer, Strategy.HYBRID, 10, stock)
    got = await broken.for_customer(customer, Strategy.HYBRID, 10, stock)
    assert len(got) == 10
    assert got == expected
    assert [r.book_id for r in await broken.trending(None, 5)] == [
        r.book_id for r in await healthy.trending(None, 5)
    ]
    await dead.aclose()


async def test_with_search_down_hybrid_goes_on_without_content(
    settings: Settings, stores: Stores, tmp_path: Any
) -> None:
    import httpx

    from app import create_app

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    broken = settings.model_copy(
        update={
            "qdrant_url": f"http://127.0.0.1:{closed}",
            "data_dir": tmp_path,
            "store_connect_timeout_seconds": 1.0,
            "redis_key_prefix": f"{settings.redis_key_prefix}{uuid.uuid4().hex}:",  # nothing cached
        }
    )
    subject = "demo-customer-3"
    query = """query ($strategy: RecommendationStrategy!) {
      viewer { name recommendations(strategy: $strategy) { score strategy reason book { id } } } }"""
    application = create_app(broken)
    async with (
        application.router.lifespan_context(application),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url="http://t") as http,
    ):
        ask = GraphQLClient(http, broken)
        hybrid = await ask(query, {"strategy": "HYBRID"}, as_=subject)
        content = await ask(query, {"strategy": "CONTENT"}, as_=subject)
        cache = services(application).recommender.cache
        customer = pk_of((await ask("{ viewer { id } }", as_=subject))["data"]["viewer"]["id"], "Customer")
        kept = await cache.customer_list(customer, "HYBRID")
    # HYBRID is served from the other signals, whole, and not cached: search may be back next time.
    assert "errors" not in hybrid, hybrid
    listed = hybrid["data"]["viewer"]["recommendations"]
    assert len(listed) == 10 and all(0.0 <= r["score"] <= 1.0 for r in listed)
    assert not {pk_of(r["book"]["id"], "Book") for r in listed} & await bought_by(stores, subject)
    assert kept is None
    # CONTENT is search alone: that field is null with the store named, the viewer is not.
    assert content["data"]["viewer"]["name"] and content["data"]["viewer"]["recommendations"] is None
    assert error_codes(content) == ["SOURCE_UNAVAILABLE"]
    assert content["errors"][0]["extensions"]["store"] == "search"
    assert content["errors"][0]["path"] == ["viewer", "recommendations"]


async def test_hybrid_blends_with_the_weights_tuning_stored(settings: Settings, stores: Stores) -> None:
    recommender = dataclasses.replace(
        recommender_for(settings, stores),
        cache=RecommendationCache(stores.redis, f"{settings.redis_key_prefix}{uuid.uuid4().hex}:", 60),
    )
    async with stores.orders.connect() as conn:
        customer = (
            await conn.execute(sa.text("SELECT id FROM customers WHERE subject = 'demo-customer-5'"))
        ).scalar_one()
    stock = InventorySource(stores.inventory)
    assert await recommender.blend_weights() == recommender.weights  # nothing tuned: the defaults
    # All the weight on one signal: HYBRID ranks as that strategy does.
    await recommender.cache.store_weights({"weights": Weights(0.0, 0.0, 0.0, 1.0).as_json()})
    assert await recommender.blend_weights() == Weights(0.0, 0.0, 0.0, 1.0)
    hybrid = await recommender.for_customer(customer, Strategy.HYBRID, 10, stock)
    genres = await recommender.for_customer(customer, Strategy.POPULAR_IN_GENRES, 10, stock)
    assert [r.book_id for r in hybrid] == [r.book_id for r in genres] and len(hybrid) == 10
    # The blend scores a signal as a share of its best: the same list, scaled by one factor.
    ratios = [h.score / g.score for h, g in zip(hybrid, genres, strict=True)]
    assert max(ratios) == pytest.approx(min(ratios), rel=1e-4) and all(h.score <= 1.0 for h in hybrid)


def test_every_strategys_cached_list_is_forgotten_with_its_customer() -> None:
    assert set(CUSTOMER_LISTS) == {strategy.value for strategy in Strategy}


async def test_readiness_reports_redis_down_as_degraded(settings: Settings, stores: Stores) -> None:
    import httpx

    from app import create_app

    dead = redis_client("redis://127.0.0.1:1/0", 0.5)
    application = create_app(settings, stores=dataclasses.replace(stores, redis=dead))
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://x") as http:
            response = await http.get("/readyz")
            trending = await http.post(
                "/graphql", json={"query": "{ trendingBooks(first: 3) { book { title } } }"}
            )
    await dead.aclose()
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["stores"]["redis"].startswith("unavailable")
    assert len(trending.json()["data"]["trendingBooks"]) == 3


async def test_bad_input_is_refused_with_a_code(gql: GraphQLClient) -> None:
    for first in (0, 101):
        body = await gql(RECS, {"first": first, "strategy": "HYBRID"}, as_="demo-customer-3")
        assert error_codes(body) == ["BAD_USER_INPUT"]
    unknown = await gql("{ viewer { recommendations(strategy: BEST) { score } } }", as_="demo-customer-3")
    assert error_codes(unknown) == ["GRAPHQL_VALIDATION_FAILED"]
    other = (await gql("{ viewer { id } }", as_="demo-customer-4"))["data"]["viewer"]["id"]
    snoop = await gql(
        "query ($id: ID!) { node(id: $id) { ... on Customer { recommendations { score } } } }",
        {"id": other},
        as_="demo-customer-3",
    )
    assert error_codes(snoop) == ["NOT_FOUND"]  # another customer is not there for them
    admin = await gql(
        "query ($id: ID!) { node(id: $id) { ... on Customer { recommendations(first: 3) { score } } } }",
        {"id": other},
        as_="ops",
        role=Role.ADMIN,
    )
    assert len(admin["data"]["node"]["recommendations"]) == 3


async def test_a_store_that_never_sold_anything_shows_its_newest_books(
    settings: Settings, stores: Stores, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from sqlalchemy.ext.asyncio import create_async_engine
    from support import private_database

    from datasources.migrate import upgrade
    from datasources.orders.purchases import PurchaseHistory

    async with private_database("nosales", tmp_path_factory) as url:
        engine = create_async_engine(url)
        await upgrade(engine, "orders")
        recommender = dataclasses.replace(
            recommender_for(settings, stores),
            history=PurchaseHistory(engine),
            cache=RecommendationCache(stores.redis, f"{settings.redis_key_prefix}{uuid.uuid4().hex}:", 60),
        )
        listed = await recommender.trending(None, 10)
        mystery = await recommender.trending("Mystery", 5)
        await engine.dispose()
    assert len(listed) == 10 and len(mystery) == 5
    assert {r.period.value if r.period else None for r in listed + mystery} == {"NEW"}
    assert [r.score for r in listed] == sorted((r.score for r in listed), reverse=True)
    rows = await InventorySource(stores.inventory).books_by_id.load_many([r.book_id for r in listed])
    years = [row.published_year for row in rows if row is not None]
    assert years == sorted(years, reverse=True)
    levels = await InventorySource(stores.inventory).stock_by_book_id.load_many([r.book_id for r in listed])
    assert all(level.available > 0 for level in levels)
    assert (
        listed[0].reason({}, None) == "New in the catalog"
        and mystery[0].reason({}, "Mystery") == "New in Mystery"
    )
