"""GraphQL documents registered by clients (automatic persisted queries), shared in Redis so that a
query registered through one server process is served by every other.

A miss is harmless in this protocol (the client resends the text), so Redis being down turns every
lookup into a miss and every registration into a no-op, never into a failed request.
"""

from __future__ import annotations

from redis.asyncio import Redis

from datasources.base import fail_open
from datasources.redis import STORE

UNAVAILABLE = "persisted query store unavailable"


class DocumentStore:
    def __init__(self, redis: Redis, prefix: str, ttl_seconds: int) -> None:
        self.redis = redis
        self.prefix = f"{prefix}apq:"
        self.ttl = ttl_seconds

    async def get(self, sha256: str) -> str | None:
        value = await fail_open(
            STORE, self.redis.get(self.prefix + sha256), None, UNAVAILABLE, via=self.redis
        )
        return value.decode() if isinstance(value, bytes) else value

    async def count_registration(self, client: str) -> int | None:
        """How many documents `client` has registered in the last day, this one included (None:
        Redis is down, and the registration is a no-op anyway)."""
        key = f"{self.prefix}count:{client}"
        pipe = self.redis.pipeline(transaction=True)
        pipe.incr(key)
        pipe.expire(key, 86_400, nx=True)
        answer = await fail_open(STORE, pipe.execute(), None, UNAVAILABLE, via=self.redis)
        return int(answer[0]) if answer is not None else None

    async def put(self, sha256: str, document: str) -> None:
        await fail_open(
            STORE,
            self.redis.set(self.prefix + sha256, document, ex=self.ttl),
            None,
            "persisted query not registered",
            via=self.redis,
        )
