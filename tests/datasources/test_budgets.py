"""Cost budgets in Redis: a leaky bucket per client, whose refunds ride on the next charge."""

from __future__ import annotations

import uuid

from redis.asyncio import Redis

from config import Settings
from datasources.redis.budgets import CostBudgets
from datasources.stores import redis_client


async def test_a_refund_is_given_back_with_the_next_charge_in_one_round_trip(settings: Settings) -> None:
    assert settings.redis_url is not None
    redis: Redis = redis_client(settings.redis_url, 2.0)
    try:
        budgets = CostBudgets(redis, f"{settings.redis_key_prefix}{uuid.uuid4().hex}:", 100, 0.001)
        first = await budgets.take("partner", 80)
        assert first is not None and first.taken and first.currently_available == 20
        # 80 asked, 30 used: 50 owed. The bucket as it will be is reported at once ...
        assert budgets.refund("partner", 50, first).currently_available == 70
        # ... and Redis holds it from the next charge on, which it pays for.
        second = await budgets.take("partner", 60)
        assert second is not None and second.taken and 9.9 <= second.currently_available <= 10.5
        # Not paid for without the refund: 10 left, 60 asked.
        assert not (await budgets.take("partner", 60) or second).taken
        # A client that does not come back gets its points with the next flush.
        budgets.refund("partner", 55, second)
        await budgets.flush()
        third = await budgets.take("partner", 0)
        assert third is not None and 64.9 <= third.currently_available <= 66
    finally:
        await redis.aclose()
