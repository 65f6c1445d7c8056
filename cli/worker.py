"""The background worker: a process of its own that finishes interrupted checkouts, precomputes
recommendations into Redis and (over a Qdrant server) applies search index changes left pending,
at start-up and then on a schedule."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict
from datetime import timedelta

from checkout.saga import RecoveryReport, checkout_for
from config import Settings
from datasources.stores import Stores
from embeddings.model import Model
from errors import SourceUnavailable
from ingest.indexing import IndexFollower
from recommendations.recommender import recommender_for

log = logging.getLogger("bookgraph.worker")


async def recover_once(settings: Settings, stores: Stores) -> RecoveryReport | None:
    try:
        # Over an embedded shard, the API process that holds it follows the stock (see run).
        checkout = checkout_for(settings, stores, follow_index=bool(settings.qdrant_url))
        report = await checkout.recover(timedelta(seconds=settings.recovery_after_seconds))
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
    """Recovery every RECOVERY_INTERVAL_SECONDS, pending index changes every
    INDEX_FOLLOW_INTERVAL_SECONDS and a recommendation rebuild every RECS_REBUILD_INTERVAL_SECONDS,
    all at once on start-up."""
    log.info("worker started", extra={"interval_seconds": settings.recovery_interval_seconds})
    # An embedded shard belongs to the API process that opened it (one process per directory):
    # the worker leaves it alone, and that process follows the changes itself.
    follower = IndexFollower.of(stores, Model().get) if settings.qdrant_url else None
    due = {"recover": 0.0, "rebuild": 0.0} | ({"follow": 0.0} if follower else {})
    loop = asyncio.get_running_loop()
    while True:
        now = loop.time()
        if now >= due["recover"]:
            await recover_once(settings, stores)
            due["recover"] = now + settings.recovery_interval_seconds
        if follower is not None and now >= due["follow"]:
            await follower.pass_logged()
            due["follow"] = now + settings.index_follow_interval_seconds
        if now >= due["rebuild"]:
            await rebuild_recommendations(settings, stores)
            due["rebuild"] = now + settings.recs_rebuild_interval_seconds
        if once:
            return
        await asyncio.sleep(max(min(due.values()) - loop.time(), 0.0))
