"""Named points in a workflow where a test can make it fail: an exception, or the process killed
outright (kill -9), to prove that recovery finishes what a crash left half-done."""

from __future__ import annotations

import os
import signal
from collections.abc import Mapping
from typing import Literal

FaultAction = Literal["kill", "error"]


class InjectedFault(RuntimeError):
    pass


class Faults:
    def __init__(self, armed: Mapping[str, FaultAction | BaseException] | None = None) -> None:
        self.armed = dict(armed or {})

    def reach(self, point: str) -> None:
        action = self.armed.get(point)
        if action is None:
            return
        if action == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        if isinstance(action, BaseException):
            raise action
        raise InjectedFault(f"fault injected at {point}")


NONE = Faults()
