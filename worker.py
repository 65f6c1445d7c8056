"""The background worker: a process of its own that finishes interrupted checkouts and precomputes
recommendations into Redis, at start-up and then on a schedule."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict
from datetime import timedelta

from checkout import RecoveryReport, checkout_for
from config import Settings
from datasources.stores import Stores
from errors import SourceUnavailable
from recommender import recommender_for

log = logging.getLogger("bookgraph.worker")


async def recover_once(settings: Settings, stores: Stores) -> RecoveryReport | None:
    try:
        report = await checkout_for(settings, stores).recover(
            timedelta(seconds=settings.recovery_after_seconds)
        )
    except SourceUnavailable as exc:
        log.warning("recovery skipped: a store is unavailable", extra={"store": exc.store})
        return None
    if any(asdict(report).values()):
        log.info("recovered interrupted checkouts", extra=asdict(report))
    return report


async def rebuild_recommendations(settings: Settings, stores: Stores) -> None:
    try:
        books, lists = await recommender_for(settings, stores).rebuild()
    except SourceUnavailable as exc:
        log.warning("recommendation rebuild skipped: a store is unavailable", extra={"store": exc.store})
        return
    log.info("recommendations rebuilt", extra={"books": books, "trending_lists": lists})


async def run(settings: Settings, stores: Stores, *, once: bool = False) -> None:
    """Recovery every RECOVERY_INTERVAL_SECONDS and a recommendation rebuild every
    RECS_REBUILD_INTERVAL_SECONDS, both at once on start-up."""
    log.info("worker started", extra={"interval_seconds": settings.recovery_interval_seconds})
    next_rebuild = 0.0
    loop = asyncio.get_running_loop()
    while True:
        await recover_once(settings, stores)
        if loop.time() >= next_rebuild:
            await rebuild_recommendations(settings, stores)
            next_rebuild = loop.time() + settings.recs_rebuild_interval_seconds
        if once:
            return
        await asyncio.sleep(settings.recovery_interval_seconds)
