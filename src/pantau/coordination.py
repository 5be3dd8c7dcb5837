"""One runner per background job across several `pantau serve` processes.

With Redis configured, each job runs only in the process that holds its lock
(`pantau:job:<name>`); the holder renews the lock while it runs, and when it dies the
lock expires and another process takes the job over. Without Redis there is one
process, so the job simply runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from redis.asyncio import Redis
from redis.exceptions import LockError, RedisError

from pantau.runtime import Job, Runtime

log = logging.getLogger(__name__)

LOCK_SECONDS = 15.0


async def run_exclusively(
    name: str, job: Job, runtime: Runtime, redis: Redis | None,
    *, lock_seconds: float = LOCK_SECONDS,
) -> None:
    """Run `job` while this process holds its lock; wait for the lock otherwise."""
    if redis is None:
        await job(runtime)
        return
    while True:
        lock = redis.lock(f"pantau:job:{name}", timeout=lock_seconds, blocking=False)
        try:
            acquired = await lock.acquire()
        except RedisError as exc:
            log.warning("job %s: cannot reach Redis for its lock (%s); retrying", name, exc)
            acquired = False
        if not acquired:
            await asyncio.sleep(lock_seconds / 3)
            continue
        log.info("job %s: this process runs it", name)
        task = asyncio.create_task(job(runtime), name=f"job:{name}")
        lost = False
        try:
            while not lost:
                done, _ = await asyncio.wait({task}, timeout=lock_seconds / 3)
                if done:
                    break
                try:
                    await lock.reacquire()
                except (LockError, RedisError):
                    log.warning("job %s: lost its lock; another process may take it", name)
                    lost = True
        finally:
            if not task.done():
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            with contextlib.suppress(LockError, RedisError):
                await lock.release()
        if not lost:
            task.result()  # the job's own failure, if any, goes to the caller
            return
