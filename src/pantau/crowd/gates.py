"""Who counts: one voice per reporter per service per 30 minutes, a few per network.

A repeated report from the same reporter within the window is stored (it adds
details) but not counted again. Each network may add at most `voices` counted
reporters per service per window, so many forged client ids behind one address
do not become many people. Kept in memory for one process, or in Redis (SET NX /
INCR with expiry) when several processes share the work.
"""

from __future__ import annotations

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

    def _expire(self, now: float) -> None:
        reporters, networks = self._reporters, self._networks
        while reporters and now - next(iter(reporters.values())) >= self._window:
            reporters.popitem(last=False)
        while networks and now - next(iter(networks.values()))[0] >= self._window:
            networks.popitem(last=False)

    async def admit(self, service: str, reporter: str, network: str, now: float) -> bool:
        self._expire(now)
        if (service, reporter) in self._reporters:
            return False
        started, used = self._networks.get((service, network), (now, 0))
        if used >= self._voices:
            return False
        self._reporters[(service, reporter)] = now
        self._networks[(service, network)] = (started, used + 1)
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
