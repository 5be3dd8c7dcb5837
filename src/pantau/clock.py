"""Injectable clocks.

Every component that needs the time takes a `Clock`. Production uses `SystemClock`;
tests freeze time with `FrozenClock`; the demo and `pantau lab run` replay a scenario
faster than real time with `ScaledClock`, so the server's per-minute rollups, detector
and incident timeline all live in scenario time.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Protocol

log = logging.getLogger(__name__)


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Sleep for `seconds` of this clock's time."""
        ...


HOLD_BACK = timedelta(seconds=10)
"""How far back the system clock may step (NTP correcting it, a leap second) and be held
at its latest reading until it catches up."""


class SystemClock:
    """The system's clock, which does not go back by a small step.

    A report stamped after the clock stepped back could land in a minute already rolled
    up and scored, and never be counted. Held, the reports of those few seconds share one
    instant instead. A larger step is taken as it is, and logged: held, the reports of
    minutes would pile up in one and look like a surge.
    """

    def __init__(self, read: Callable[[], datetime] = partial(datetime.now, UTC)) -> None:
        self._read = read
        self._latest = datetime.min.replace(tzinfo=UTC)
        # Read from the event loop and from the store's writer thread (the time of a
        # group commit): one reading at a time, or one could put the latest back.
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            now = self._read()
            latest = self._latest
            if now >= latest:
                self._latest = now
                return now
            if latest - now <= HOLD_BACK:
                return latest
            self._latest = now
        log.warning("the system clock stepped back %s; taken as it is", latest - now)
        return now

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class ScaledClock:
    """Runs `speed` times faster than the wall clock, starting at `start`."""

    def __init__(self, start: datetime, speed: float) -> None:
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.start = start.astimezone(UTC)
        self.speed = speed
        self._origin = time.monotonic()

    def now(self) -> datetime:
        elapsed = (time.monotonic() - self._origin) * self.speed
        return self.start + timedelta(seconds=elapsed)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self.speed)


class FrozenClock:
    """A clock that moves only when told to; `sleep` advances it instantly."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("at must be timezone-aware")
        self._now = at.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)

    async def sleep(self, seconds: float) -> None:
        self.advance(max(0.0, seconds))
        await asyncio.sleep(0)
