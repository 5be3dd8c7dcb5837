"""The per-process live hub: one store poll wakes every stream of a changed service."""

from __future__ import annotations

import asyncio
import socket
from datetime import datetime, timedelta

import pytest
from incident_factories import all_ok, crowd, minute
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from sqlalchemy.exc import OperationalError

from pantau.incidents.engine import FusionEngine, ServiceInput
from pantau.incidents.job import announce
from pantau.store import Store
from pantau.web.live import LiveHub
from tests.services import REDIS_URL, unavailable


async def _fuse(store: Store, engine: FusionEngine, n: int) -> None:
    m = engine.step(minute(n), [ServiceInput("chatgpt", "ChatGPT", "cloudflare",
                                             crowd(minute(n)), all_ok(minute(n)))])
    await store.save_fusion(m.at, list(m.assessments.values()), dict(m.incidents), m.changed,
                            m.events)


async def test_hub_wakes_listeners_when_a_minute_lands(store: Store) -> None:
    engine = FusionEngine()
    await _fuse(store, engine, 0)
    hub = LiveHub(store, interval=0.05)
    async with hub.listening():
        assert await hub.wait("chatgpt", None, 2.0)  # the first poll sees minute 0
        seen = hub.versions["chatgpt"]
        assert not await hub.wait("chatgpt", seen, 0.2)  # nothing new: times out
        waiters = [asyncio.create_task(hub.wait("chatgpt", seen, 5.0)) for _ in range(3)]
        await asyncio.sleep(0.1)
        await _fuse(store, engine, 1)
        assert await asyncio.gather(*waiters) == [True, True, True]
        assert hub.versions["chatgpt"] == minute(1)
    assert hub._task is None  # stops polling once nobody listens


@pytest.mark.redis
async def test_an_announced_minute_wakes_the_hub_at_once(store: Store) -> None:
    redis = Redis.from_url(REDIS_URL)
    try:
        await redis.ping()
    except RedisError as exc:
        await redis.aclose()
        unavailable("Redis", exc)
    engine = FusionEngine()
    await _fuse(store, engine, 0)
    # A long interval: only the announcement can wake the hub in time.
    hub = LiveHub(store, interval=30.0, redis=redis)
    try:
        async with hub.listening():
            assert await hub.wait("chatgpt", None, 5.0)
            seen = hub.versions["chatgpt"]
            waiter = asyncio.create_task(hub.wait("chatgpt", seen, 5.0))
            await asyncio.sleep(0.2)  # subscribed by now
            await _fuse(store, engine, 1)
            await announce(redis, minute(1))
            assert await waiter
    finally:
        await redis.aclose()


async def test_hub_keeps_watching_after_a_store_error(store: Store,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    engine = FusionEngine()
    await _fuse(store, engine, 0)
    real = store.state_versions
    calls = 0

    async def flaky() -> dict[str, datetime]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise OperationalError("SELECT", {}, Exception("database restarting"))
        return await real()

    monkeypatch.setattr(store, "state_versions", flaky)
    hub = LiveHub(store, interval=0.05)
    async with hub.listening():
        assert await hub.wait("chatgpt", None, 2.0)
    assert calls >= 2


async def test_announcing_without_redis_reachable_does_not_fail_fusion() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once closed
    redis = Redis(host="127.0.0.1", port=port, socket_connect_timeout=1.0,
                  retry=Retry(NoBackoff(), 0))
    try:
        await announce(redis, minute(1))
    finally:
        await redis.aclose()


class _Loads:
    """A view's loading that takes a moment, counted (failing when told to)."""

    def __init__(self) -> None:
        self.calls = 0
        self.fail = False

    async def __call__(self) -> dict[str, object]:
        self.calls += 1
        await asyncio.sleep(0.05)
        if self.fail:
            raise OperationalError("SELECT", {}, Exception("the database went away"))
        return {"load": self.calls}


async def test_streams_of_one_service_and_zone_share_one_loading_of_its_view(
    store: Store,
) -> None:
    engine = FusionEngine()
    await _fuse(store, engine, 0)
    hub, load = LiveHub(store), _Loads()
    key = ("chatgpt", "Asia/Jakarta", minute(0))
    views = await asyncio.gather(*(hub.shared_view(key, load) for _ in range(20)))
    assert load.calls == 1 and views == [{"load": 1}] * 20
    assert await hub.shared_view(key, load) == {"load": 1}  # kept while nothing changes
    assert await hub.shared_view(("chatgpt", "UTC", minute(0)), load) == {"load": 2}
    # A reader who leaves while the view loads does not cancel it for the others.
    other = ("chatgpt", "Asia/Makassar", minute(0))
    leaving = asyncio.create_task(hub.shared_view(other, load))
    staying = asyncio.create_task(hub.shared_view(other, load))
    await asyncio.sleep(0.01)
    leaving.cancel()
    assert await staying == {"load": 3}
    # A new minute: the views loaded before it are loaded again.
    await _fuse(store, engine, 1)
    await hub._refresh()
    assert await hub.shared_view(key, load) == {"load": 4}


async def test_a_view_is_loaded_again_each_minute_though_nothing_new_is_fused(
    store: Store,
) -> None:
    # Whether the data have gone stale changes with the time alone: a page left open
    # must hear it even when fusion has stopped and no version changes.
    hub, load = LiveHub(store), _Loads()
    key = ("chatgpt", "UTC", None)
    at = minute(0)
    assert await hub.shared_view(key, load, at) == {"load": 1}
    assert await hub.shared_view(key, load, at + timedelta(seconds=59)) == {"load": 1}
    assert await hub.shared_view(key, load, at + timedelta(minutes=1)) == {"load": 2}


async def test_a_view_that_failed_to_load_is_loaded_again(store: Store) -> None:
    hub, load = LiveHub(store), _Loads()
    key = ("chatgpt", "UTC", None)
    load.fail = True
    waiting = [asyncio.create_task(hub.shared_view(key, load)) for _ in range(3)]
    results = await asyncio.gather(*waiting, return_exceptions=True)
    assert load.calls == 1 and all(isinstance(r, OperationalError) for r in results)
    load.fail = False
    assert await hub.shared_view(key, load) == {"load": 2}
