"""Events between server processes over Redis pub/sub: order status changes and stock changes.

Publishing is best effort: an event is a notification about a change already committed to its
store, so a Redis outage costs live updates, never the change itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import orjson
from redis.asyncio import Redis

from datasources.base import fail_open
from datasources.redis import STORE
from datasources.redis.event_hub import EventHub

__all__ = ["STORE", "EventBus", "OrderStatusChanged", "StockChanged"]


@dataclass(frozen=True, slots=True)
class OrderStatusChanged:
    order_id: int
    customer_id: int
    from_status: str | None
    to_status: str
    occurred_at: str  # ISO 8601


@dataclass(frozen=True, slots=True)
class StockChanged:
    book_id: int
    on_hand: int
    reserved: int


class EventBus:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self.prefix = f"{prefix}events:"
        self.hub = EventHub(redis)

    # Channels: orders:<customer id>:<order id> and stock:<book id>, so a subscriber can listen
    # to one order, to one customer's orders (a pattern) or to every order (admins).
    def order_channel(self, customer_id: int | str, order_id: int | str) -> str:
        return f"{self.prefix}orders:{customer_id}:{order_id}"

    def stock_channel(self, book_id: int) -> str:
        return f"{self.prefix}stock:{book_id}"

    async def order_status_changed(self, event: OrderStatusChanged) -> None:
        await self._publish(self.order_channel(event.customer_id, event.order_id), asdict(event))

    async def stock_changed(self, events: Sequence[StockChanged]) -> None:
        for event in events:
            await self._publish(self.stock_channel(event.book_id), asdict(event))

    async def _publish(self, channel: str, payload: dict[str, Any]) -> None:
        await fail_open(
            STORE,
            self.redis.publish(channel, orjson.dumps(payload)),
            None,
            "event not published",
            channel=channel,
            via=self.redis,
        )

    async def listen(
        self, *, channels: Sequence[str] = (), patterns: Sequence[str] = ()
    ) -> AsyncIterator[dict[str, Any]]:
        """Payloads published on `channels` or channels matching `patterns`, until the caller stops;
        every listener of this bus shares its one Redis subscription (datasources/redis/event_hub.py)."""
        async for payload in self.hub.listen(channels=channels, patterns=patterns):
            yield payload

    async def aclose(self) -> None:
        await self.hub.close()
