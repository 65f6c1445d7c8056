"""The server on another day: the time-dependent paths with the clock moved years ahead of the data,
so the next calendar time bomb goes off here rather than on a clean clone."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from support import GraphQLClient

from auth.tokens import issue_token
from checkout.saga import checkout_for
from config import Settings
from datasources.orders.ledger import NewLine, OrderLedger
from datasources.stores import Stores
from schema.relay import pk_of

AHEAD = timedelta(days=5 * 365 + 1)
TRENDING = "{ trendingBooks(first: 100) { score reason book { id } } }"


@dataclass
class Future:
    settings: Settings
    gql: GraphQLClient
    http: httpx.AsyncClient


@pytest.fixture(scope="module")
async def future(settings: Settings, stores: Stores) -> AsyncIterator[Future]:
    """The session's stores (history dated up to today) served by a process whose clock is five
    years ahead; a key prefix of its own, so nothing cached today answers for it."""
    from app import create_app

    moved = settings.model_copy(
        update={
            "clock_offset_seconds": AHEAD.total_seconds(),
            "redis_key_prefix": f"{settings.redis_key_prefix}future-{uuid.uuid4().hex[:6]}:",
        }
    )
    application = create_app(moved, stores=stores)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://future.test") as http:
            yield Future(moved, GraphQLClient(http, moved), http)


async def latest_sale(stores: Stores) -> Any:
    async with stores.orders.connect() as conn:
        return (
            await conn.execute(
                sa.text("SELECT max(placed_at) FROM orders WHERE status NOT IN ('CANCELLED', 'REJECTED')")
            )
        ).scalar_one()


async def test_trending_widens_to_the_latest_sales_and_says_when(future: Future, stores: Stores) -> None:
    latest = await latest_sale(stores)
    listed = (await future.gql(TRENDING))["data"]["trendingBooks"]
    assert len(listed) == 100
    reasons = [r["reason"] for r in listed]
    # Nothing was sold in the five years before the moved clock: not "lately", but the month it was.
    assert reasons[0] == f"Popular with readers in {latest:%B %Y}"
    assert not [r for r in reasons if "lately" in r]
    scores = [r["score"] for r in listed]
    assert scores == sorted(scores, reverse=True)


async def test_a_customer_with_no_history_still_gets_recommendations(future: Future) -> None:
    body = await future.gql(
        "{ viewer { recommendations(first: 10) { strategy reason book { stock { available } } } } }",
        as_=f"newcomer-{uuid.uuid4().hex[:8]}",
    )
    listed = body["data"]["viewer"]["recommendations"]
    assert len(listed) == 10
    assert all(r["strategy"] == "TRENDING" and "lately" not in r["reason"] for r in listed)
    assert all(r["book"]["stock"]["available"] > 0 for r in listed)


async def test_token_lifetimes_follow_the_clock(future: Future, settings: Settings, client: Any) -> None:
    query = {"query": "{ viewer { id } }"}
    issued_then = issue_token(future.settings, "demo-customer-1")
    ok = await future.http.post("/graphql", json=query, headers={"Authorization": f"Bearer {issued_then}"})
    assert ok.status_code == 200 and ok.json()["data"]["viewer"]["id"]
    # A week-long token issued today expired years before the moved clock …
    issued_today = issue_token(settings, "demo-customer-1")
    old = await future.http.post("/graphql", json=query, headers={"Authorization": f"Bearer {issued_today}"})
    assert old.status_code == 401
    assert old.json()["errors"][0]["message"] == "The token has expired."
    # … and one issued five years from now is not valid yet today.
    early = await client.post("/graphql", json=query, headers={"Authorization": f"Bearer {issued_then}"})
    assert early.status_code == 401
    assert early.json()["errors"][0]["message"] == "The token is not valid yet."


async def test_an_order_placed_then_is_dated_then_and_trends_then(future: Future, stores: Stores) -> None:
    listed = await future.gql(
        "{ books(first: 1, filter: { inStock: true }, orderBy: { field: PRICE, direction: DESC }) "
        "{ edges { node { id } } } }"
    )
    book = listed["data"]["books"]["edges"][0]["node"]["id"]
    placed = await future.gql(
        "mutation ($input: PlaceOrderInput!) { placeOrder(input: $input) "
        "{ order { number status placedAt } userErrors { code } } }",
        {"input": {"idempotencyKey": uuid.uuid4().hex, "lines": [{"bookId": book, "quantity": 3}]}},
        as_=f"future-buyer-{uuid.uuid4().hex[:8]}",
    )
    order = placed["data"]["placeOrder"]["order"]
    assert order["status"] == "CONFIRMED", placed
    then = future.settings.clock.now()
    assert order["number"].startswith(f"BG-{then:%y%m%d}-")
    assert abs((await latest_sale(stores)) - then) < timedelta(minutes=5)
    # Computed afresh (the cached lists predate the sale): the one recent sale leads, "lately".
    await stores.redis.delete(f"{future.settings.redis_key_prefix}recs:trending")
    top = (await future.gql(TRENDING))["data"]["trendingBooks"]
    assert pk_of(top[0]["book"]["id"], "Book") == pk_of(book, "Book")
    assert top[0]["reason"] == "Popular with readers lately"
    assert "lately" not in top[1]["reason"]


async def test_recovery_ages_are_measured_by_the_same_clock(
    future: Future, settings: Settings, stores: Stores, gql: GraphQLClient
) -> None:
    subject = f"stranded-{uuid.uuid4().hex[:8]}"
    await gql("{ viewer { id } }", as_=subject)
    async with stores.orders.connect() as conn:
        customer = (
            await conn.execute(sa.text("SELECT id FROM customers WHERE subject = :s"), {"s": subject})
        ).scalar_one()
    listed = await gql("{ books(first: 1, filter: { inStock: true }) { edges { node { id } } } }")
    book = pk_of(listed["data"]["books"]["edges"][0]["node"]["id"], "Book")
    # A checkout interrupted right after opening its order, in the moved world.
    opened = await OrderLedger(stores.orders).open(
        customer, "stranded", "h", [NewLine(book, 1, 999)], "USD", placed_at=future.settings.clock.now()
    )

    async def status() -> str:
        async with stores.orders.connect() as conn:
            return str(
                (
                    await conn.execute(
                        sa.text("SELECT status FROM orders WHERE id = :o"), {"o": opened.order.id}
                    )
                ).scalar_one()
            )

    # Today's clock sees an order from the future: not stranded yet.
    await checkout_for(settings, stores).recover(older_than=timedelta(0))
    assert await status() == "PENDING"
    await checkout_for(future.settings, stores).recover(older_than=timedelta(0))
    assert await status() == "CONFIRMED"


def test_the_moved_clock_is_refused_in_production(settings: Settings) -> None:
    with pytest.raises(ValueError, match="CLOCK_OFFSET_SECONDS"):
        Settings(
            environment="production",
            jwt_secret="s" * 40,
            clock_offset_seconds=1.0,
            inventory_database_url="sqlite+aiosqlite:///x.db",
            orders_database_url="postgresql+asyncpg://x/y",
            redis_url="redis://x",
            qdrant_url="http://x:6333",
        )
