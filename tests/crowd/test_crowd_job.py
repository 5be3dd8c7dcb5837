"""The detector's minute job against a real store; backpressure; the sliding-window limiter."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from ipaddress import ip_address

from pantau.catalog import Catalog
from pantau.clock import FrozenClock
from pantau.crowd.identity import origin
from pantau.crowd.limiter import ReportLimiter
from pantau.detect import run
from pantau.detect.job import CrowdScorer, catch_up, count_config
from pantau.runtime import Runtime
from pantau.settings import load_settings
from pantau.signals import CrowdState
from pantau.store import Store
from pantau.store.reports import NewReport
from tests.crowd.crowd_fixtures import T0, client, crowd_store, make_app

__all__ = ["crowd_store"]


def _report(i: int, at_seconds: float, network: str | None = None) -> NewReport:
    return NewReport(
        id=f"{i:032x}", service="chatgpt", at=T0 + timedelta(seconds=at_seconds),
        reporter=f"r{i}", network=network or f"n{i}", category="website", region="ID-JK",
        text="502", text_norm="502 bad gateway", counted=True,
    )


async def test_minute_job_rolls_up_scores_and_stores_every_minute(crowd_store: Store) -> None:
    settings = load_settings(crowd_min_networks=5)
    scorer = CrowdScorer(count_config(settings))
    services = ["chatgpt", "gmail"]
    scorer.last_minute = T0 - timedelta(minutes=1)
    # Minute 0: 3 reports (2 networks); minute 2: 60 reports from 60 networks.
    for i, (at, net) in enumerate([(5, "a"), (20, "a"), (50, "b")]):
        await crowd_store.add_report(_report(i, at, net))
    for i in range(60):
        await crowd_store.add_report(_report(100 + i, 120 + i * 0.5))
    done = await catch_up(scorer, crowd_store, services, T0 + timedelta(minutes=3, seconds=5))
    assert [(m.service, m.minute - T0) for m in done] == [
        (s, timedelta(minutes=k)) for k in range(3) for s in services
    ]
    stored = await crowd_store.crowd_minutes(T0, service="chatgpt")
    assert [(m.reporters, m.networks) for m in stored] == [(3, 2), (0, 0), (60, 60)]
    assert stored[0].texts == {"502 bad gateway": 3} and stored[0].regions == {"ID-JK": 3}
    assert all(m.expected > 0 for m in stored)
    # The first hour is for learning: high, but not yet an alarm.
    assert stored[2].state is CrowdState.POSSIBLE and not stored[2].alarm
    # Nothing new to score: the same minute is never scored twice.
    later = T0 + timedelta(minutes=3, seconds=30)
    assert await catch_up(scorer, crowd_store, services, later) == []


async def test_run_replays_history_and_keeps_going(crowd_store: Store) -> None:
    clock = FrozenClock(T0)
    runtime = Runtime(settings=load_settings(), store=crowd_store,
                      catalog=Catalog.default(), clock=clock)
    for i in range(4):
        await crowd_store.add_report(_report(i, 61 + i))
    task = asyncio.create_task(run(runtime))
    for _ in range(50):
        await asyncio.sleep(0.01)
        clock.advance(30)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    rows = await crowd_store.crowd_minutes(T0 - timedelta(minutes=5), service="chatgpt")
    minutes = [m.minute for m in rows]
    assert minutes == sorted(set(minutes)) and len(minutes) >= 10
    assert any(m.reporters == 4 for m in rows)


async def test_full_write_queue_answers_503_with_retry_after(crowd_store: Store) -> None:
    crowd_store.MAX_PENDING_REPORTS = 0
    app = make_app(crowd_store, FrozenClock(T0))
    async with client(app) as http:
        r = await http.post("/api/v1/services/chatgpt/reports", json={"category": "app"})
    assert r.status_code == 503 and r.headers["retry-after"] == "1"
    assert await crowd_store.report_count() == 0


async def test_sliding_window_limiter_recovers_gradually() -> None:
    limiter = ReportLimiter("10/minute", "1000/minute")
    a = origin(ip_address("203.0.113.1"))
    assert [limiter.check(a, 0.0) for _ in range(10)] == [None] * 10
    assert limiter.check(a, 0.0) == 60
    # Half into the next window: half of the last window still counts.
    assert [limiter.check(a, 90.0) for _ in range(5)] == [None] * 5
    assert limiter.check(a, 90.0) is not None
    assert limiter.check(a, 1000.0) is None
