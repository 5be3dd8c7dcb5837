"""The fusion minute job: read the latest signals, fuse, write state, incidents and events.

Runs in `pantau serve` (one instance per deployment; the lead's scheduler lock decides
which process). Each minute boundary of the runtime's clock it fuses the minute that just
ended, so scaled replays produce exactly the same minutes as real time.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from redis.asyncio import Redis
from redis.exceptions import RedisError

from pantau.incidents.engine import FusionEngine, Minute, ServiceInput
from pantau.incidents.sources import gather
from pantau.store.incidents import incident_store

if TYPE_CHECKING:
    from pantau.runtime import Runtime

log = logging.getLogger(__name__)
CHANNEL = "pantau:fused"
"""Redis channel on which each fused minute is announced (live pages listen to it)."""
FUSE_DELAY = timedelta(seconds=5)
"""Fuse a little after the minute boundary, once the detector has scored the last minute."""
KEEP_MINUTES = timedelta(days=8)
"""Per-minute rows kept for the charts (a week plus the day before it)."""


def floor_minute(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


async def announce(redis: Redis | None, at: datetime) -> None:
    """Tell every process's live pages that a minute was fused (no-op without Redis)."""
    if redis is None:
        return
    try:
        await redis.publish(CHANNEL, at.isoformat())
    except RedisError as exc:
        # The minute is already stored and live pages also poll: a Redis hiccup must not
        # fail the job, whose restart would forget every service's debouncing streaks.
        log.warning("fusion %s: not announced on Redis: %s", at.isoformat(), exc)


async def fuse_once(ctx: Runtime, engine: FusionEngine, at: datetime) -> Minute:
    """Fuse every catalog service for the minute `at` and store the result."""
    store = incident_store(ctx.store)
    inputs: list[ServiceInput] = await gather(ctx.store, ctx.catalog, at)
    minute = engine.step(at, inputs)
    await store.save_fusion(at, list(minute.assessments.values()), dict(minute.incidents),
                            minute.changed, minute.events)
    await announce(ctx.redis, at)
    return minute


async def run(ctx: Runtime) -> None:
    """Loop until cancelled: one fusion per minute of `ctx.clock`."""
    store = incident_store(ctx.store)
    engine = FusionEngine()
    engine.resume(await store.open_incidents())
    last_prune: datetime | None = None
    while True:
        now = ctx.clock.now()
        nxt = floor_minute(now - FUSE_DELAY) + timedelta(minutes=1) + FUSE_DELAY
        await ctx.clock.sleep((nxt - now).total_seconds())
        at = floor_minute(ctx.clock.now())
        minute = await fuse_once(ctx, engine, at)
        if minute.events:
            log.info("fusion %s: %d incident events", at.isoformat(), len(minute.events))
        if last_prune is None or at - last_prune >= timedelta(hours=1):
            await store.prune_service_minutes(at - KEEP_MINUTES)
            last_prune = at
