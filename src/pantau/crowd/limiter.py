"""Rate limits per client address and per network, on the `limits` library.

In memory for one process; in Redis when the settings give one, so every
`pantau serve` behind a load balancer enforces the same budget. The Redis storage
borrows the server's own connection pool, so it opens and closes nothing itself.
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from redis.asyncio import Redis

from pantau.crowd.identity import Address, network_of


class ReportLimiter:
    def __init__(self, per_address: str, per_network: str, redis: Redis | None = None) -> None:
        storage: Storage = (
            # limits types its options as scalars, but passes them on to redis-py.
            RedisStorage(
                "async+redis://",
                implementation="redispy",
                connection_pool=redis.connection_pool,  # type: ignore[arg-type]
            )
            if redis is not None
            else MemoryStorage()
        )
        self._limiter = MovingWindowRateLimiter(storage)
        self._address = parse_many(per_address)
        self._network = parse_many(per_network)

    async def check(self, address: Address) -> int | None:
        """Take one report from the budgets; None if allowed, else seconds to wait."""
        budgets: list[tuple[RateLimitItem, str]] = [
            *((item, f"a:{address}") for item in self._address),
            *((item, f"n:{network_of(address)}") for item in self._network),
        ]
        for item, key in budgets:
            if not await self._limiter.hit(item, "report", key):
                stats = await self._limiter.get_window_stats(item, "report", key)
                return max(1, math.ceil(stats.reset_time - time.time()))
        return None
