"""Rate limits per client address and per network.

The limits are written in the `limits` library's syntax ("6/minute;30/hour") and
parsed by it. With Redis, the library's Redis storage (moving window, one Lua call)
is shared by every `pantau serve` behind a load balancer, borrowing the server's
own connection pool. In one process, a sliding-window counter kept here is used
instead of the library's memory storage: that storage sweeps every key every 10 ms
(through a thread hop per key in its asyncio flavour), which at outage scale, with
one key per reporter address, starved the database writer's threads (measured in
bench/ingest.py). Two counters per key, swept once per window, cost O(1).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from limits import RateLimitItem, parse_many
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from redis.asyncio import Redis

from pantau.crowd.identity import Origin


@dataclass(slots=True)
class _Window:
    """Sliding-window counter for one limit: counts in the current and previous window."""

    amount: int
    seconds: float
    counts: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    """key -> (window index, count in it, count in the window before)."""
    swept: int = 0

    def hit(self, key: str, now: float) -> float | None:
        """Count one hit; None if allowed, else seconds until one more would be."""
        seconds = self.seconds
        index = int(now // seconds)
        if index > self.swept + 1:
            # Keys idle for two windows carry nothing any more: forget them.
            self.counts = {k: v for k, v in self.counts.items() if v[0] >= index - 1}
            self.swept = index
        counts = self.counts
        found = counts.get(key)
        if found is None:
            # No hits in the last two windows (at outage scale, most reporters): nothing
            # to weigh, so the window's position in time is not needed to allow it.
            if self.amount >= 1:
                counts[key] = (index, 1, 0)
                return None
            current = previous = 0
        else:
            at, current, previous = found
            if at != index:
                current, previous = (0, current) if at == index - 1 else (0, 0)
        elapsed = now / seconds - index
        estimate = previous * (1.0 - elapsed) + current
        if estimate + 1 > self.amount:
            counts[key] = (index, current, previous)
            return (1.0 - elapsed) * seconds
        counts[key] = (index, current + 1, previous)
        return None


class ReportLimiter:
    def __init__(self, per_address: str, per_network: str, redis: Redis | None = None) -> None:
        self._address = parse_many(per_address)
        self._network = parse_many(per_network)
        self._redis: MovingWindowRateLimiter | None = None
        if redis is not None:
            # limits types its options as scalars, but passes them on to redis-py.
            storage = RedisStorage(
                "async+redis://",
                implementation="redispy",
                connection_pool=redis.connection_pool,  # type: ignore[arg-type]
            )
            self._redis = MovingWindowRateLimiter(storage)
        # In memory: the address's windows and the network's, made once.
        self._by_address = [_Window(item.amount, item.get_expiry()) for item in self._address]
        self._by_network = [_Window(item.amount, item.get_expiry()) for item in self._network]

    @property
    def in_memory(self) -> bool:
        """True if the budgets are kept in this process (no Redis): `check_in_memory`."""
        return self._redis is None

    async def check(self, where: Origin, now: float) -> int | None:
        """Take one report from the budgets at `now` (seconds); None if allowed, else
        seconds to wait. On Redis, the time is Redis's own."""
        if self._redis is not None:
            return await self._check_redis(self._redis, where)
        return self.check_in_memory(where, now)

    def check_in_memory(self, where: Origin, now: float) -> int | None:
        """`check` without Redis, which never waits: called as it is, it spares the ingest
        path a coroutine per report (bench/ingest.py)."""
        for window in self._by_address:
            wait = window.hit(where.address, now)
            if wait is not None:
                return max(1, math.ceil(wait))
        for window in self._by_network:
            wait = window.hit(where.network, now)
            if wait is not None:
                return max(1, math.ceil(wait))
        return None

    async def _check_redis(self, redis: MovingWindowRateLimiter, where: Origin) -> int | None:
        budgets: list[tuple[RateLimitItem, str]] = [
            *((item, f"a:{where.address}") for item in self._address),
            *((item, f"n:{where.network}") for item in self._network),
        ]
        for item, key in budgets:
            if not await redis.hit(item, "report", key):
                stats = await redis.get_window_stats(item, "report", key)
                return max(1, math.ceil(stats.reset_time - time.time()))
        return None
