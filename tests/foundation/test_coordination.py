from __future__ import annotations

import asyncio
import uuid

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from pantau.catalog import Catalog
from pantau.coordination import run_exclusively
from pantau.runtime import Runtime
from pantau.settings import load_settings
from pantau.store import Store
from tests.services import REDIS_URL, unavailable


@pytest.fixture
async def redis_client() -> Redis:
    client = Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        await client.ping()
    except RedisConnectionError as exc:
        unavailable("Redis", exc)
    return client


def _runtime(sqlite_url: str) -> Runtime:
    return Runtime(settings=load_settings(database=sqlite_url), store=Store(sqlite_url),
                   catalog=Catalog(services=()))


async def test_one_process_runs_each_job(redis_client: Redis, sqlite_url: str) -> None:
    name = f"test-{uuid.uuid4().hex}"
    running: list[str] = []
    overlaps = 0

    def make(who: str):  # type: ignore[no-untyped-def]
        async def job(_runtime: Runtime) -> None:
            nonlocal overlaps
            running.append(who)
            overlaps = max(overlaps, len(running))
            try:
                await asyncio.sleep(3600)
            finally:
                running.remove(who)
        return job

    runtime = _runtime(sqlite_url)
    first = asyncio.create_task(
        run_exclusively(name, make("a"), runtime, redis_client, lock_seconds=0.6))
    await asyncio.sleep(0.1)
    second = asyncio.create_task(
        run_exclusively(name, make("b"), runtime, redis_client, lock_seconds=0.6))
    await asyncio.sleep(1.0)  # several renewals
    assert running == ["a"]
    first.cancel()  # the leader stops; its lock is released and "b" takes over
    await asyncio.gather(first, return_exceptions=True)
    for _ in range(30):
        if running == ["b"]:
            break
        await asyncio.sleep(0.1)
    assert running == ["b"]
    assert overlaps == 1
    second.cancel()
    await asyncio.gather(second, return_exceptions=True)
    await redis_client.aclose()


async def test_without_redis_the_job_just_runs(sqlite_url: str) -> None:
    ran = asyncio.Event()

    async def job(_runtime: Runtime) -> None:
        ran.set()

    await run_exclusively("x", job, _runtime(sqlite_url), None)
    assert ran.is_set()
