"""A process told to stop stops: every shutdown step is bounded, even one that ignores cancellation."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from app import create_app
from config import Settings
from datasources.redis.events import EventBus
from datasources.stores import Stores
from gateway import shutdown


class Stubborn:
    """Waits as a driver that swallows its cancellation does, until released (or, so that a test of
    code that waits for it fails rather than hangs, for `patience` seconds)."""

    def __init__(self, patience: float = 15.0) -> None:
        self.released = asyncio.Event()
        self.patience = patience
        self.cancellations = 0
        self.finished = False

    async def wait(self, *_: Any) -> None:
        loop = asyncio.get_running_loop()
        until = loop.time() + self.patience
        while not self.released.is_set() and loop.time() < until:
            try:
                await asyncio.wait_for(self.released.wait(), timeout=until - loop.time())
            except asyncio.CancelledError:
                self.cancellations += 1
            except TimeoutError:
                pass
        self.finished = True

    async def release(self) -> None:
        self.released.set()
        await asyncio.sleep(0)


async def test_a_step_that_swallows_its_cancellation_is_left_behind_at_its_deadline(
    caplog: pytest.LogCaptureFixture,
) -> None:
    stubborn = Stubborn()
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        with caplog.at_level(logging.ERROR, logger="gateway.shutdown"):
            assert await shutdown.step("stubborn", stubborn.wait(), seconds=0.2) is False
        # Returned at its deadline (asyncio.wait_for would still be waiting), having asked it to stop.
        assert loop.time() - started < 5
        await asyncio.sleep(0.05)  # the cancellation reaches it on a later turn of the loop
        assert stubborn.cancellations == 1
        [record] = caplog.records
        assert "'stubborn' overran" in record.getMessage()
        # The log says where every pending task waits: the stubborn one in its own sleep.
        chains: dict[str, list[str]] = record.waiting  # type: ignore[attr-defined]
        assert any(any(line.endswith("in wait") for line in chain) for chain in chains.values()), chains
    finally:
        await stubborn.release()


async def test_steps_that_finish_or_fail_are_reported_as_such(caplog: pytest.LogCaptureFixture) -> None:
    async def fails() -> None:
        raise ConnectionError("gone")

    async def sleeps() -> None:
        await asyncio.sleep(30)

    assert await shutdown.step("quick", asyncio.sleep(0)) is True
    with caplog.at_level(logging.WARNING, logger="gateway.shutdown"):
        assert await shutdown.step("failing", fails()) is False
    assert "'failing' failed" in caplog.records[-1].getMessage()
    sleeping = asyncio.create_task(sleeps())
    assert await shutdown.stop("sleeping", sleeping) is True and sleeping.cancelled()


async def test_the_lifespan_ends_when_a_store_client_will_not_close(
    settings: Settings, stores: Stores, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    stubborn = Stubborn()
    monkeypatch.setattr(EventBus, "aclose", stubborn.wait)
    monkeypatch.setattr(shutdown, "STEP_SECONDS", 0.3)
    application = create_app(settings, stores=stores)
    try:
        with caplog.at_level(logging.ERROR, logger="gateway.shutdown"):
            async with application.router.lifespan_context(application):
                pass
        # The lifespan ended without waiting for the client to give up.
        assert not stubborn.finished
        assert any("'event hub' overran" in r.getMessage() for r in caplog.records)
    finally:
        await stubborn.release()
