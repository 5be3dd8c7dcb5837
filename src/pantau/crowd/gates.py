"""Who counts: one voice per reporter per service per 30 minutes, a few per network.

A repeated report from the same reporter within the window is stored (it adds
details) but not counted again. Each network may add at most `voices` counted
reporters per service per window, so many forged client ids behind one address
do not become many people. Kept in memory for one process, or in Redis (SET NX /
INCR with expiry) when several processes share the work.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from typing import Protocol

from redis.asyncio import Redis

WINDOW_SECONDS = 30 * 60


class CountGate(Protocol):
    async def admit(self, service: str, reporter: str, network: str, now: float) -> bool:
        """True if this report, at `now` (seconds), counts as a new voice."""
        ...


class MemoryGate:
    def __init__(self, voices: int, window: float = WINDOW_SECONDS) -> None:
        self._voices = voices
        self._window = window
        # Insertion-ordered by first sighting, so expiry only ever looks at the front.
        self._reporters: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._networks: OrderedDict[tuple[str, str], tuple[float, int]] = OrderedDict()
        # The earlier of the two fronts' times (or earlier still): until it is a window
        # old, nothing has expired, and a report need not look at the fronts (two
        # iterators built per report: 7 % of the ingest path's own CPU in a profile).
        self._front = math.inf

    def _expire(self, now: float) -> None:
        reporters, networks = self._reporters, self._networks
        while reporters and now - next(iter(reporters.values())) >= self._window:
            reporters.popitem(last=False)
        while networks and now - next(iter(networks.values()))[0] >= self._window:
            networks.popitem(last=False)
        self._front = min(
            next(iter(reporters.values()), math.inf),
            next(iter(networks.values()), (math.inf, 0))[0],
        )

    async def admit(self, service: str, reporter: str, network: str, now: float) -> bool:
        return self.admit_now(service, reporter, network, now)

    def admit_now(self, service: str, reporter: str, network: str, now: float) -> bool:
        """`admit`, which never waits here: called as it is, it spares the ingest path a
        coroutine per report (bench/ingest.py)."""
        if now - self._front >= self._window:
            self._expire(now)
        seen = (service, reporter)
        if seen in self._reporters:
            return False
        where = (service, network)
        started, used = self._networks.get(where, (now, 0))
        if used >= self._voices:
            return False
        self._reporters[seen] = now
        self._networks[where] = (started, used + 1)
        if now < self._front:
            self._front = now
        return True


class RedisGate:
    def __init__(self, redis: Redis, voices: int, window: int = WINDOW_SECONDS) -> None:
        self._redis = redis
        self._voices = voices
        self._window = window

    async def admit(self, service: str, reporter: str, network: str, now: float) -> bool:
        # Redis keeps the time: its keys expire by themselves.
        seen = await self._redis.set(
            f"pantau:crowd:r:{service}:{reporter}", 1, nx=True, ex=self._window
        )
        if not seen:
            return False
        key = f"pantau:crowd:n:{service}:{network}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, self._window, nx=True)
            used, _ = await pipe.execute()
        return int(used) <= self._voices
