"""What time it is, read in one place.

Everything that depends on "now" (trending windows, checkout recovery ages, token lifetimes, the
dates of generated demo data) takes a `Clock` instead of reading the wall clock itself, so a test can
move the whole server to another day and see every time-dependent path at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


@dataclass(frozen=True, slots=True)
class Clock:
    """The wall clock in UTC, moved by `offset` (zero outside tests; see CLOCK_OFFSET_SECONDS)."""

    offset: timedelta = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def timestamp(self) -> int:
        """Whole seconds since the epoch, as JWT claims count them."""
        return int(self.now().timestamp())

    def moved(self, by: timedelta) -> Clock:
        return Clock(self.offset + by)


SYSTEM = Clock()
