"""Who counts: one voice per reporter per service per 30 minutes, a few per network.

A repeated report from the same reporter within the window is stored (it adds
details) but not counted again. Each network may add at most `voices` counted
reporters per service per window, so many forged client ids behind one address
do not become many people. Kept in memory for one process, or in Redis (SET NX /
INCR with expiry) when several processes share the work.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Protocol

from redis.asyncio import Redis

WINDOW_SECONDS = 30 * 60


class CountGate(Protocol):
    async def admit(self, service: str, reporter: str, network: str, now: float) -> bool:
        """True if this report, at `now` (seconds), counts as a new voice."""
        ...


class MemoryGate:
    """The gate in one process's memory.

    Per service, a dict of the reporters seen (-> when first seen) and one of the
    networks' voices used, keyed by the hashes as given. Parallel queues name each
    entry's dict and key (and a network's start) in the order first seen, so that
    expiry only looks at the front: no tuple per entry, no linked node of an
    OrderedDict, nothing the collector has to track. With a tuple-keyed OrderedDict
    each, a new reporter on a new network held 516 bytes here, now 279 (tracemalloc,
    300,000 of them), and took 1.2 us, now 0.9 (bench/crowd_memory.py).
    """

    def __init__(self, voices: int, window: float = WINDOW_SECONDS) -> None:
        self._voices = voices
        self._window = window
        self._seen: dict[str, dict[str, float]] = {}
        self._used: dict[str, dict[str, int]] = {}
        # First sightings in order, so expiry only ever looks at the front.
        self._seen_in: deque[dict[str, float]] = deque()
        self._seen_keys: deque[str] = deque()
        self._used_in: deque[dict[str, int]] = deque()
        self._used_keys: deque[str] = deque()
        self._used_since: deque[float] = deque()
        # The earlier of the two fronts' times (or earlier still): until it is a window
        # old, nothing has expired, and a report need not look at the fronts (7 % of the
        # ingest path's own CPU in a profile).
        self._front = math.inf

    def _expire(self, now: float) -> None:
        window = self._window
        seen_in, seen_keys = self._seen_in, self._seen_keys
        while seen_keys and now - seen_in[0][seen_keys[0]] >= window:
            del seen_in.popleft()[seen_keys.popleft()]
        used_in, used_keys, used_since = self._used_in, self._used_keys, self._used_since
        while used_since and now - used_since[0] >= window:
            used_since.popleft()
            del used_in.popleft()[used_keys.popleft()]
        self._front = min(
            seen_in[0][seen_keys[0]] if seen_keys else math.inf,
            used_since[0] if used_since else math.inf,
        )

    async def admit(self, service: str, reporter: str, network: str, now: float) -> bool:
        return self.admit_now(service, reporter, network, now)

    def admit_now(self, service: str, reporter: str, network: str, now: float) -> bool:
        """`admit`, which never waits here: called as it is, it spares the ingest path a
        coroutine per report (bench/ingest.py)."""
        if now - self._front >= self._window:
            self._expire(now)
        seen = self._seen.get(service)
        if seen is None:
            seen = self._seen[service] = {}
            self._used[service] = {}
        if reporter in seen:
            return False
        used = self._used[service]
        voices = used.get(network, 0)
        if voices >= self._voices:
            return False
        seen[reporter] = now
        self._seen_in.append(seen)
        self._seen_keys.append(reporter)
        if not voices:
            self._used_in.append(used)
            self._used_keys.append(network)
            self._used_since.append(now)
        used[network] = voices + 1
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
