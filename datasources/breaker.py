"""Circuit breakers: a store that stopped answering is not asked again by every call.

Each engine and Redis client the stores open has its own breaker (`guard`). The first call that
finds the store unreachable or out of time opens it; while it is open, calls to that store fail at
once (SourceUnavailable, so only its fields are lost, and a cache or a bus falls back at once) instead
of each waiting out its own timeout. After `retry_after` seconds one call is let through as a probe:
if it is answered the breaker closes, if not it stays open twice as long (up to `longest`).
"""

from __future__ import annotations

import logging
import time
import weakref
from dataclasses import dataclass
from typing import Any

from observability.telemetry import STORE_CIRCUIT

log = logging.getLogger(__name__)

# Breakers by the engine or client they guard: a test's broken store trips only its own.
_BREAKERS: weakref.WeakKeyDictionary[Any, Breaker] = weakref.WeakKeyDictionary()


@dataclass(slots=True)
class Breaker:
    store: str
    retry_after: float
    longest: float = 30.0
    _open_until: float | None = None  # monotonic time; None while closed
    _wait: float = 0.0
    _probing: bool = False

    def admit(self) -> bool:
        """Whether a call may go to the store now (closed, or the one probe of an open breaker)."""
        if self._open_until is None:
            return True
        if self._probing or time.monotonic() < self._open_until:
            STORE_CIRCUIT.labels(self.store, "refused").inc()
            return False
        self._probing = True
        return True

    def answered(self) -> None:
        if self._open_until is not None:
            log.info("store answers again", extra={"store": self.store})
            STORE_CIRCUIT.labels(self.store, "closed").inc()
        self._open_until, self._probing = None, False

    def unanswered(self) -> None:
        if self._open_until is None:
            self._wait = self.retry_after
            log.warning("store not answering: failing its calls at once", extra={"store": self.store})
            STORE_CIRCUIT.labels(self.store, "opened").inc()
        elif self._probing:
            self._wait = min(self._wait * 2, self.longest)
        self._open_until, self._probing = time.monotonic() + self._wait, False

    def abandoned(self) -> None:
        """A call ended with no word on the store (cancelled, or a bug of its own)."""
        self._probing = False

    @property
    def is_open(self) -> bool:
        return self._open_until is not None


def guard(target: Any, store: str, retry_after: float) -> None:
    """Give `target` (an engine or a client) a breaker of its own."""
    _BREAKERS[target] = Breaker(store, retry_after)


def breaker_of(target: Any) -> Breaker | None:
    return _BREAKERS.get(target) if target is not None else None
