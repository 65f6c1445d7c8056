"""The recommender's Redis: precomputed co-purchase neighbours and trending lists, and per-customer
lists with a time to live.

Redis is a cache here, never a point of failure: every read that fails is a miss and every write
that fails is skipped, so with Redis down recommendations are computed from the stores directly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from redis.asyncio import Redis

from datasources.base import fail_open
from datasources.redis import STORE
from observability.telemetry import RECOMMENDATION_CACHE

# [[book id, score], ...] best first
Scored = list[tuple[int, float]]


class RecommendationCache:
    # After a failure Redis is left alone this long: with it down, each request would otherwise
    # pay a connection attempt per cache call.
    BACK_OFF_SECONDS = 5.0

    def __init__(self, redis: Redis, prefix: str, ttl_seconds: int) -> None:
        self.redis = redis
        self.prefix = f"{prefix}recs:"
        self.ttl = ttl_seconds
        self._down_until = 0.0

    # --- co-purchase neighbours: one key per book, written by the worker ---

    def _neighbours_key(self, book_id: int) -> str:
        return f"{self.prefix}co:{book_id}"

    async def neighbours(self, book_ids: Sequence[int]) -> dict[int, Scored]:
        """The stored neighbours of those of `book_ids` that have them (one round trip)."""
        if not book_ids:
            return {}
        values = await self._safely(
            "neighbours", self.redis.mget([self._neighbours_key(b) for b in book_ids])
        )
        if values is None:
            return {}
        found = {b: _scored(v) for b, v in zip(book_ids, values, strict=True) if v is not None}
        RECOMMENDATION_CACHE.labels("neighbours", "hit").inc(len(found))
        RECOMMENDATION_CACHE.labels("neighbours", "miss").inc(len(book_ids) - len(found))
        return found

    async def store_neighbours(self, neighbours: Mapping[int, Scored], *, ttl: int | None = None) -> None:
        """Written with a TTL so a book that stops selling ages out; the worker rewrites the rest."""
        if not neighbours:
            return
        pipe = self.redis.pipeline(transaction=False)
        for book_id, scored in neighbours.items():
            pipe.set(self._neighbours_key(book_id), orjson.dumps(scored), ex=ttl or self.ttl)
        await self._safely("store_neighbours", pipe.execute())

    # --- trending: one hash, field "" for the whole catalog and one per genre ---

    async def trending_of(self, genres: Sequence[str]) -> dict[str, list[list[Any]]] | None:
        """Several genres' lists in one round trip; None when the lists are not stored (a genre
        without one has an empty list)."""
        if not genres:
            return {}
        key = f"{self.prefix}trending"
        pipe = self.redis.pipeline(transaction=False)
        pipe.exists(key)
        pipe.hmget(key, list(genres))
        answer = await self._safely("trending", pipe.execute())
        stored, values = answer if answer is not None else (0, [])
        RECOMMENDATION_CACHE.labels("trending", "hit" if stored else "miss").inc()
        if not stored:
            return None
        return {
            genre: orjson.loads(value) if value is not None else []
            for genre, value in zip(genres, values, strict=True)
        }

    async def store_trending(self, lists: Mapping[str, list[list[Any]]], *, ttl: int | None = None) -> None:
        key = f"{self.prefix}trending"
        pipe = self.redis.pipeline(transaction=True)
        pipe.delete(key)
        pipe.hset(key, mapping={genre: orjson.dumps(scored) for genre, scored in lists.items()})
        pipe.expire(key, ttl or self.ttl)
        await self._safely("store_trending", pipe.execute())

    # --- per-customer lists ---

    def _customer_key(self, customer_id: int, strategy: str) -> str:
        return f"{self.prefix}customer:{customer_id}:{strategy}"

    async def customer_list(self, customer_id: int, strategy: str) -> list[list[Any]] | None:
        value = await self._safely("customer_list", self.redis.get(self._customer_key(customer_id, strategy)))
        RECOMMENDATION_CACHE.labels("customer", "miss" if value is None else "hit").inc()
        return orjson.loads(value) if value is not None else None

    async def store_customer_list(self, customer_id: int, strategy: str, items: list[list[Any]]) -> None:
        await self._safely(
            "store_customer_list",
            self.redis.set(self._customer_key(customer_id, strategy), orjson.dumps(items), ex=self.ttl),
        )

    async def forget_customer(self, customer_id: int) -> None:
        keys = [self._customer_key(customer_id, s) for s in CUSTOMER_LISTS]
        await self._safely("forget_customer", self.redis.delete(*keys))

    async def forget_all_customers(self) -> int:
        """Every cached per-customer list (benchmarks measuring misses start from none)."""
        keys = [key async for key in self.redis.scan_iter(match=f"{self.prefix}customer:*", count=1000)]
        if keys:
            await self.redis.delete(*keys)
        return len(keys)

    # --- the blend's weights, as `bookgraph recs tune` found them ---

    async def weights(self) -> dict[str, Any] | None:
        value = await self._safely("weights", self.redis.get(f"{self.prefix}weights"))
        return orjson.loads(value) if value is not None else None

    async def store_weights(self, tuned: Mapping[str, Any]) -> None:
        """Kept until tuned again (no TTL): the API reads them for every list it computes."""
        await self.redis.set(f"{self.prefix}weights", orjson.dumps(tuned))

    async def _safely(self, operation: str, awaitable: Any) -> Any:
        failed = object()
        answer = await fail_open(
            STORE, awaitable, failed, "recommendation cache unavailable", operation=operation, via=self.redis
        )
        if answer is failed:
            RECOMMENDATION_CACHE.labels(operation, "error").inc()
            return None
        return answer


# Every strategy's per-customer list (recommendations.values.Strategy), forgotten together.
CUSTOMER_LISTS = ("CONTENT", "CO_PURCHASE", "TRENDING", "POPULAR_IN_GENRES", "HYBRID")


def _scored(value: bytes | str) -> Scored:
    return [(int(book_id), float(score)) for book_id, score in orjson.loads(value)]
