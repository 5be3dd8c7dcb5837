"""A reporter's voice reaches the count: after their report failed to be stored and was
sent again, after the clock stepped back, and after Redis was slow to decide."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from redis.asyncio import Redis
from sqlalchemy.exc import OperationalError

from pantau.clock import HOLD_BACK, FrozenClock, SystemClock
from pantau.crowd.gates import LocalCrowd, MemoryGate
from pantau.crowd.ingest import Ingest
from pantau.crowd.limiter import ReportLimiter
from pantau.crowd.shared import SharedCrowd
from pantau.crowd.validate import Category, ReportIn
from pantau.detect.job import CrowdScorer, catch_up, count_config
from pantau.settings import load_settings
from pantau.store import Store
from pantau.store.writer import Overloaded
from tests.crowd.crowd_fixtures import T0, crowd_store

__all__ = ["crowd_store"]


def _crowd(redis: Redis | None, secret: bytes) -> LocalCrowd | SharedCrowd:
    if redis is None:
        return LocalCrowd(ReportLimiter("6/minute", "1000/minute"), MemoryGate(3))
    return SharedCrowd(redis, "6/minute", "1000/minute", 3, secret)


async def _send(ingest: Ingest, client_id: str, peer: str = "198.51.100.7") -> str:
    return await ingest.submit("chatgpt", ReportIn(Category.LOGIN, text="502 Bad Gateway"),
                               client_id=client_id, peer=peer, forwarded_for=None)


def _fail_next_write(store: Store, monkeypatch: pytest.MonkeyPatch, exc: Exception) -> None:
    """The store's next group commit fails with `exc` (a database that could not write):
    nothing else here can make one fail on cue."""
    real = store.writer.submit
    failed: list[bool] = []

    async def submit(fn: Callable[[Any], Any]) -> Any:
        if not failed:
            failed.append(True)
            raise exc
        return await real(fn)

    monkeypatch.setattr(store.writer, "submit", submit)


@pytest.fixture(params=["memory", "redis"])
def shared(request: pytest.FixtureRequest) -> Redis | None:
    return request.getfixturevalue("redis") if request.param == "redis" else None


@pytest.mark.parametrize("failure", [
    OperationalError("INSERT", {}, Exception("database is locked")),
    Overloaded(),
], ids=["database", "overloaded"])
async def test_the_retry_of_a_report_that_was_not_stored_counts(
    crowd_store: Store, shared: Redis | None, failure: Exception,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = FrozenClock(T0 + timedelta(seconds=10))
    secret = uuid.uuid4().bytes
    ingest = Ingest(crowd_store, clock, secret=secret, trusted_proxies=[],
                    crowd=_crowd(shared, secret))
    _fail_next_write(crowd_store, monkeypatch, failure)
    with pytest.raises(type(failure)):  # answered 503: try again
        await _send(ingest, "client-0001")
    clock.advance(5)
    await _send(ingest, "client-0001")
    # The retry is the reporter's voice, not a repeat of one that was never stored.
    assert [row.counted for row in await crowd_store.report_rows(T0, T0 + timedelta(hours=1))
            ] == [True]
    assert len(await crowd_store.voices_since(T0)) == 1
    # And once stored, a third report is a repeat again.
    await _send(ingest, "client-0001")
    assert len(await crowd_store.voices_since(T0)) == 1


async def test_a_voice_given_back_frees_its_networks_place(
    crowd_store: Store, shared: Redis | None, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Three voices a network: the one whose report failed is not one of them.
    secret = uuid.uuid4().bytes
    ingest = Ingest(crowd_store, FrozenClock(T0), secret=secret, trusted_proxies=[],
                    crowd=_crowd(shared, secret))
    _fail_next_write(crowd_store, monkeypatch, Overloaded())
    with pytest.raises(Overloaded):
        await _send(ingest, "client-lost")
    for i in range(3):
        await _send(ingest, f"client-{i:04d}")
    assert len(await crowd_store.voices_since(T0)) == 3


class _ReadClock:
    """The readings a `SystemClock` is given, set by the test."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


async def _counted_in_scored_minutes(store: Store, scorer: CrowdScorer,
                                     now: datetime) -> int:
    await catch_up(scorer, store, ["chatgpt"], now)
    return sum(m.reporters for m in await store.crowd_minutes(T0, service="chatgpt"))


def _scorer() -> CrowdScorer:
    scorer = CrowdScorer(count_config(load_settings()))
    scorer.last_minute = T0 - timedelta(minutes=1)
    return scorer


async def test_a_report_after_the_clock_stepped_back_a_little_is_counted(
    crowd_store: Store,
) -> None:
    read = _ReadClock(T0 + timedelta(seconds=10))
    clock = SystemClock(read)
    ingest = Ingest(crowd_store, clock, secret=b"kept", trusted_proxies=[],
                    crowd=_crowd(None, b"kept"))
    scorer = _scorer()
    await _send(ingest, "client-0001", "198.51.100.1")
    read.at = T0 + timedelta(seconds=65)  # the job rolls up and scores 11:00
    assert await _counted_in_scored_minutes(crowd_store, scorer, clock.now()) == 1
    read.at = T0 + timedelta(seconds=58)  # NTP steps the clock back 7 s
    await _send(ingest, "client-0002", "198.51.100.2")
    read.at = T0 + timedelta(seconds=125)  # and 11:01
    assert await _counted_in_scored_minutes(crowd_store, scorer, clock.now()) == 2


def test_the_system_clock_holds_a_small_step_back_and_takes_a_large_one(
    caplog: pytest.LogCaptureFixture,
) -> None:
    read = _ReadClock(T0)
    clock = SystemClock(read)
    assert clock.now() == T0
    read.at = T0 - HOLD_BACK
    assert clock.now() == T0
    read.at = T0 + timedelta(seconds=1)
    assert clock.now() == read.at
    read.at = T0 - timedelta(minutes=5)
    with caplog.at_level(logging.WARNING, logger="pantau.clock"):
        assert clock.now() == read.at
    assert "stepped back 0:05:01" in caplog.text


class _SlowCrowd:
    """Redis's decisions, arriving while the clock moves on `delay` seconds (a slow round
    trip, a backlog of reports ahead)."""

    def __init__(self, crowd: SharedCrowd, clock: FrozenClock, delay: float) -> None:
        self._crowd, self._clock, self._delay = crowd, clock, delay
        self.give_back = crowd.give_back

    async def decide(self, *args: Any) -> Any:
        decision = await self._crowd.decide(*args)
        self._clock.advance(self._delay)
        return decision


async def test_a_report_decided_late_by_redis_lands_in_a_minute_still_open(
    crowd_store: Store, redis: Redis,
) -> None:
    clock = FrozenClock(T0 + timedelta(seconds=59.5))
    secret = uuid.uuid4().bytes
    crowd = _SlowCrowd(SharedCrowd(redis, "6/minute", "1000/minute", 3, secret), clock, 3)
    ingest = Ingest(crowd_store, clock, secret=secret, trusted_proxies=[],
                    crowd=crowd)  # type: ignore[arg-type]
    await _send(ingest, "client-0001")
    # Decided at 11:00:59.5, queued at 11:01:02.5: the job scores 11:00 at 11:01:02.5 and
    # waits only for the reports queued by then, so the report is 11:01's.
    (row,) = await crowd_store.report_rows(T0, T0 + timedelta(hours=1))
    assert row.at == T0 + timedelta(seconds=62.5)
    scorer = _scorer()
    assert await _counted_in_scored_minutes(crowd_store, scorer, clock.now()) == 0
    clock.advance(60)
    assert await _counted_in_scored_minutes(crowd_store, scorer, clock.now()) == 1


async def test_a_report_committed_late_is_stored_in_the_minute_it_became_visible(
    crowd_store: Store,
) -> None:
    # Decided at 11:00:59.5, while the writer is busy (another process's lock, a surge's
    # queue) until after the job rolled up 11:00: stored at its commit, in 11:01.
    clock = FrozenClock(T0 + timedelta(seconds=59.5))
    ingest = Ingest(crowd_store, clock, secret=b"kept", trusted_proxies=[],
                    crowd=_crowd(None, b"kept"))
    busy = threading.Event()
    held = asyncio.ensure_future(crowd_store.writer.submit(lambda conn: busy.wait(10)))
    sent = asyncio.ensure_future(_send(ingest, "client-0001"))
    await asyncio.sleep(0.05)
    clock.advance(3)
    scorer = _scorer()
    # The job's turn for 11:00. It does not wait for the report: stored at its commit,
    # it will be in 11:01 (an hour in the writer's queue would not keep it out).
    started = time.monotonic()
    await crowd_store.settle_reports(5.0, before=T0 + timedelta(minutes=1))
    assert time.monotonic() - started < 1.0
    asyncio.get_running_loop().call_later(0.5, busy.set)  # once 11:00 is rolled up
    assert await _counted_in_scored_minutes(crowd_store, scorer, clock.now()) == 0
    await held
    await sent
    (row,) = await crowd_store.report_rows(T0, T0 + timedelta(hours=1))
    assert row.at == T0 + timedelta(seconds=62.5)
    clock.advance(60)
    assert await _counted_in_scored_minutes(crowd_store, scorer, clock.now()) == 1
