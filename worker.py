"""The background worker: a process of its own that finishes interrupted checkouts, at start-up and
then on a schedule. (Recommendation precomputation joins it with the recommender.)"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict
from datetime import timedelta

from checkout import RecoveryReport, checkout_for
from config import Settings
from datasources.stores import Stores
from errors import SourceUnavailable

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


async def run(settings: Settings, stores: Stores, *, once: bool = False) -> None:
    log.info("worker started", extra={"interval_seconds": settings.recovery_interval_seconds})
    while True:
        await recover_once(settings, stores)
        if once:
            return
        await asyncio.sleep(settings.recovery_interval_seconds)
