"""Query cost budgets: one leaky bucket per client in Redis, so every server process draws on the
same budget. The bucket is updated by a Lua script, atomically, with Redis's own clock (the
processes' clocks need not agree).

What an operation did not use is given back with the client's next charge, in the same round trip
(or by `flush`, which the app runs every second for clients that have not come back): one script
call per request instead of two.

Redis down means the budget cannot be enforced: requests are let through (fail open) rather than
refused, because Redis is a cache here and must not become the API's point of failure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from redis.asyncio import Redis

from datasources.base import fail_open
from datasources.redis import STORE

# KEYS[1]: the bucket. ARGV: capacity, restore rate (points per second), cost, points given back
# first. Returns {1 if taken else 0, points available afterwards (a string: Lua numbers are floats)}.
_LEAKY_BUCKET = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local refund = tonumber(ARGV[4])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'available', 'at')
local available = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
available = math.min(capacity, available + math.max(0, now - at) * rate + refund)
local taken = 0
if cost <= available then
  available = math.min(capacity, available - cost)
  taken = 1
end
redis.call('HSET', KEYS[1], 'available', tostring(available), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(capacity / rate) + 60)
return {taken, tostring(available)}
"""


@dataclass(frozen=True, slots=True)
class Throttle:
    taken: bool
    maximum_available: int
    currently_available: float
    restore_rate: float

    def retry_after(self, cost: int) -> int:
        """Seconds until `cost` points are available again."""
        return max(1, math.ceil((cost - self.currently_available) / self.restore_rate))


class CostBudgets:
    def __init__(self, redis: Redis, prefix: str, capacity: int, restore_rate: float) -> None:
        self.redis = redis
        self.prefix = f"{prefix}budget:"
        self.capacity = capacity
        self.restore_rate = restore_rate
        self._script = redis.register_script(_LEAKY_BUCKET)
        self._owed: dict[str, int] = {}  # points to give back, by client

    async def take(self, client: str, cost: int) -> Throttle | None:
        """Take `cost` points from the client's bucket if it has them (after giving back what it is
        owed); None when Redis is down."""
        return await self._run(client, cost, self._owed.pop(client, 0))

    def refund(self, client: str, points: int, charged: Throttle) -> Throttle:
        """Give back what a query was charged beyond what it actually cost, with the client's next
        charge; the bucket as it will be then."""
        if points > 0:
            self._owed[client] = self._owed.get(client, 0) + points
        available = min(float(self.capacity), charged.currently_available + max(points, 0))
        return Throttle(charged.taken, self.capacity, round(available, 1), self.restore_rate)

    async def flush(self) -> None:
        """Give back every point owed now (the app calls this every second, and on shutdown)."""
        owed, self._owed = self._owed, {}
        for client, points in owed.items():
            await self._run(client, 0, points)

    async def _run(self, client: str, cost: int, refund: int = 0) -> Throttle | None:
        answer = await fail_open(
            STORE,
            self._script(keys=[self.prefix + client], args=[self.capacity, self.restore_rate, cost, refund]),
            None,
            "cost budget unavailable; not enforced",
            via=self.redis,
        )
        if answer is None:
            return None
        taken, available = answer
        return Throttle(bool(taken), self.capacity, round(float(available), 1), self.restore_rate)
