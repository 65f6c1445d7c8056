"""The lifespan's shutdown, one bounded step at a time: a process told to stop always stops.

`asyncio.wait_for` is no bound here. On its timeout it cancels the step and then waits for the step
to finish, and a driver that swallows the cancellation (redis-py has, see redis/redis-py#2028)
never finishes: a SIGTERMed server then logs "Waiting for application shutdown." and hangs until
it is killed. Each step here runs as a task of its own that is waited for with `asyncio.wait`,
which returns at the deadline whatever the task does. A step that overruns is logged with where
it and every other pending task are waiting, cancelled, and left behind.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from types import CoroutineType, FrameType
from typing import Any

log = logging.getLogger(__name__)

STEP_SECONDS = 5.0


async def step(name: str, work: Awaitable[Any], seconds: float | None = None) -> bool:
    """Runs `work` for at most `seconds` (`STEP_SECONDS`); False when it failed or overran (logged,
    not raised)."""
    seconds = STEP_SECONDS if seconds is None else seconds
    task = asyncio.ensure_future(work)
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if not done:
        log.error(
            "shutdown step %r overran %.1f s and was left behind",
            name,
            seconds,
            extra={"waiting": {repr(t.get_name()): where(t) for t in asyncio.all_tasks() if not t.done()}},
        )
        task.cancel()
        return False
    if not task.cancelled() and (error := task.exception()) is not None:
        log.warning("shutdown step %r failed", name, exc_info=error)
        return False
    return True


async def stop(name: str, task: asyncio.Task[Any], seconds: float | None = None) -> bool:
    """Cancels a background task and gives it `seconds` to unwind."""
    task.cancel()
    return await step(name, _unwound(task), seconds)


async def _unwound(task: asyncio.Task[Any]) -> None:
    # Waited for, not awaited: a cancelled task's CancelledError is its outcome, not ours.
    await asyncio.wait({task})
    if not task.cancelled() and (error := task.exception()) is not None:
        raise error


def where(task: asyncio.Task[Any]) -> list[str]:
    """The chain of awaits a task is suspended in, outermost first (`Task.get_stack` shows only the
    outermost frame of a suspended coroutine)."""
    chain: list[str] = []
    awaited: Any = task.get_coro()
    while awaited is not None:
        frame: FrameType | None = (
            getattr(awaited, "cr_frame", None)
            or getattr(awaited, "ag_frame", None)
            or getattr(awaited, "gi_frame", None)
        )
        if frame is not None:
            chain.append(f"{frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}")
        if isinstance(awaited, CoroutineType):
            awaited = awaited.cr_await
        else:
            awaited = getattr(awaited, "ag_await", None) or getattr(awaited, "gi_yieldfrom", None)
    return chain
