"""GraphQL documents registered by clients (automatic persisted queries), shared in Redis so that a
query registered through one server process is served by every other.

A miss is harmless in this protocol (the client resends the text), so Redis being down turns every
lookup into a miss and every registration into a no-op, never into a failed request.
"""

from __future__ import annotations

import logging

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)


class DocumentStore:
    def __init__(self, redis: Redis, prefix: str, ttl_seconds: int) -> None:
        self.redis = redis
        self.prefix = f"{prefix}apq:"
        self.ttl = ttl_seconds

    async def get(self, sha256: str) -> str | None:
        try:
            value = await self.redis.get(self.prefix + sha256)
        except (RedisError, OSError) as exc:
            log.warning("persisted query store unavailable", extra={"error": repr(exc)})
            return None
        return value.decode() if isinstance(value, bytes) else value

    async def count_registration(self, client: str) -> int | None:
        """How many documents `client` has registered in the last day, this one included (None:
        Redis is down, and the registration is a no-op anyway)."""
        key = f"{self.prefix}count:{client}"
        try:
            pipe = self.redis.pipeline(transaction=True)
            pipe.incr(key)
            pipe.expire(key, 86_400, nx=True)
            count, _ = await pipe.execute()
        except (RedisError, OSError) as exc:
            log.warning("persisted query store unavailable", extra={"error": repr(exc)})
            return None
        return int(count)

    async def put(self, sha256: str, document: str) -> None:
        try:
            await self.redis.set(self.prefix + sha256, document, ex=self.ttl)
        except (RedisError, OSError) as exc:
            log.warning("persisted query not registered", extra={"error": repr(exc)})
