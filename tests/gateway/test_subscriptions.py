"""Subscriptions share what they use: one Redis subscription per process, bounded numbers per
connection and per client, each event paid from the budget, and a connection that ends with its
token."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from httpx_ws import WebSocketDisconnect
from redis.asyncio import Redis
from starlette.applications import Starlette
from support import app_with, connect, token_for

from auth.tokens import issue_token
from config import Settings
from datasources.redis.event_hub import QUEUE_SIZE, EventHub, SubscriberTooSlow
from datasources.redis.events import EventBus, StockChanged
from datasources.stores import Stores, redis_client_name
from gateway.services import services
from schema.relay import to_global_id

STOCK = "subscription ($ids: [ID!]!) { stockChanged(bookIds: $ids) { bookId stock { onHand } } }"


async def subscribe(socket: Any, id: str, book: int) -> None:
    message = {
        "id": id,
        "type": "subscribe",
        "payload": {"query": STOCK, "variables": {"ids": [to_global_id("Book", book)]}},
    }
    await socket.ws.send_text(json.dumps(message))


async def until(condition: Any, what: str) -> None:
    for _ in range(200):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never happened: {what}")


async def pubsub_connections(redis: Redis, settings: Settings) -> int:
    """This test run's (other processes may share the Redis server)."""
    clients = await redis.client_list(_type="pubsub")
    return sum(1 for c in clients if c["name"] == redis_client_name(settings))


async def test_one_redis_connection_carries_every_subscription(
    app: Starlette, stores: Stores, settings: Settings
) -> None:
    bus: EventBus = services(app).checkout.events
    hub: EventHub = bus.hub
    channels = [bus.stock_channel(9_000 + i) for i in range(15)]
    before = await pubsub_connections(stores.redis, settings)
    async with connect(app, token_for(settings, "watcher-of-many")) as socket:
        for i in range(15):
            await subscribe(socket, str(i), 9_000 + i)
        await until(lambda: all(hub.listeners(c) == 1 for c in channels), "15 subscribers registered")
        # 15 subscriptions, and at most the one connection this process needed anyway.
        assert 1 <= await pubsub_connections(stores.redis, settings) <= max(before, 1)
        await bus.stock_changed([StockChanged(9_007, 42, 0)])
        heard = await socket.receive()
        assert heard["id"] == "7" and heard["payload"]["data"]["stockChanged"]["stock"]["onHand"] == 42
    await until(lambda: not any(hub.listeners(c) for c in channels), "subscribers gone with their connection")


async def test_a_connection_closed_right_after_subscribing_leaves_nothing_behind(
    app: Starlette, settings: Settings
) -> None:
    # Cancelled while still subscribing to Redis: each must still end, and unsubscribe.
    bus: EventBus = services(app).checkout.events
    channels = [bus.stock_channel(9_500 + i) for i in range(3)]
    async with connect(app, token_for(settings, "hasty")) as socket:
        for i in range(3):
            await subscribe(socket, str(i), 9_500 + i)
    await until(lambda: not any(bus.hub.listeners(c) for c in channels), "nothing left listening")
    assert not services(app).live_subscriptions.get("customer:hasty")


@pytest.fixture(scope="module")
async def tight(settings: Settings, stores: Stores) -> AsyncIterator[Any]:

    async with app_with(
        settings,
        stores,
        subscriptions_per_connection=3,
        subscriptions_per_client=4,
        cost_bucket_size=12,
        cost_restore_rate=0.01,
    ) as application:
        yield application


async def test_subscriptions_are_bounded_per_connection_and_per_client(
    tight: Starlette, settings: Settings
) -> None:
    subject = f"hoarder-{uuid.uuid4().hex[:6]}"
    token = token_for(settings, subject)
    async with connect(tight, token) as first, connect(tight, token) as second:
        for i in range(4):
            await subscribe(first, str(i), 9_100 + i)
        refused = await first.receive()
        assert refused["id"] == "3" and refused["type"] == "error"
        assert refused["payload"][0]["extensions"]["code"] == "THROTTLED"
        assert "on one connection" in refused["payload"][0]["message"]
        await subscribe(second, "a", 9_200)
        await subscribe(second, "b", 9_201)
        over = await second.receive()
        assert over["id"] == "b" and over["payload"][0]["extensions"]["code"] == "THROTTLED"
        assert "per client" in over["payload"][0]["message"]
        assert services(tight).live_subscriptions[f"customer:{subject}"] == 4
    # Given back as the connections end.
    await until(
        lambda: f"customer:{subject}" not in services(tight).live_subscriptions, "the count given back"
    )


async def test_every_event_after_the_first_is_paid_for(tight: Starlette, settings: Settings) -> None:
    bus: EventBus = services(tight).checkout.events
    hub = bus.hub
    async with connect(tight, token_for(settings, f"listener-{uuid.uuid4().hex[:6]}")) as socket:
        await subscribe(socket, "s", 9_300)
        await until(lambda: hub.listeners(bus.stock_channel(9_300)) == 1, "subscribed")
        messages = []
        for on_hand in range(10):
            await bus.stock_changed([StockChanged(9_300, on_hand, 0)])
            message = await socket.receive()
            messages.append(message)
            if message["type"] == "error":
                break
    delivered = [m for m in messages if m["type"] == "next"]
    assert 2 <= len(delivered) < 10
    assert messages[-1]["type"] == "error" and messages[-1]["payload"][0]["extensions"]["code"] == "THROTTLED"


async def test_a_connection_ends_when_its_token_expires(app: Starlette, settings: Settings) -> None:
    token = issue_token(settings, "short-lived", ttl_seconds=2)
    async with connect(app, token) as socket:
        await subscribe(socket, "s", 9_400)
        with pytest.raises(WebSocketDisconnect) as closed:
            await socket.receive()
    assert closed.value.code == 4403 and closed.value.reason == "The token has expired."


async def test_a_subscriber_too_far_behind_is_ended_not_buffered(stores: Stores, settings: Settings) -> None:
    hub = EventHub(stores.redis)
    channel = f"{settings.redis_key_prefix}hub-test:{uuid.uuid4().hex}"
    events = hub.listen(channels=[channel])
    first = asyncio.create_task(anext(events))
    await until(lambda: hub.listeners(channel) == 1, "subscribed")
    await stores.redis.publish(channel, b'{"n": 0}')
    assert await asyncio.wait_for(first, 10) == {"n": 0}
    for n in range(1, QUEUE_SIZE + 20):  # nobody reads
        await stores.redis.publish(channel, json.dumps({"n": n}))
    subscriber = next(iter(hub._by_channel[channel]))
    await until(lambda: subscriber.failure is not None, "the slow subscriber ended")
    received = []
    with pytest.raises(SubscriberTooSlow):
        while True:
            received.append((await anext(events))["n"])
    # What it had room for, in order, then the end.
    assert received == list(range(1, QUEUE_SIZE + 1))
    await events.aclose()
    assert hub.listeners(channel) == 0
    await hub.close()
