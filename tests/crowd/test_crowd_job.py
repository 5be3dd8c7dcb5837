"""The detector's minute job against a real store; backpressure; the sliding-window limiter."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import time
from datetime import UTC, datetime, timedelta, tzinfo
from ipaddress import ip_address
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from pantau.catalog import Catalog
from pantau.clock import FrozenClock
from pantau.crowd.identity import origin
from pantau.crowd.limiter import ReportLimiter
from pantau.crowd.rollup import Rollup
from pantau.detect import run
from pantau.detect.counts import CountConfig
from pantau.detect.job import CrowdScorer, catch_up, count_config, new_scorer
from pantau.runtime import Runtime
from pantau.settings import load_settings
from pantau.signals import CrowdMinute, CrowdState
from pantau.store import Store
from pantau.store.report_insert import NewReport
from tests.crowd.crowd_fixtures import T0, client, crowd_store, make_app

__all__ = ["crowd_store"]
JAKARTA = ZoneInfo("Asia/Jakarta")


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
    # Half a minute of the clock every 10 ms, until the job has stored ten minutes: on
    # a busy machine 50 steps were not always enough for its first query (20 s at most).
    rows: list[CrowdMinute] = []
    for _ in range(2000):
        await asyncio.sleep(0.01)
        clock.advance(30)
        rows = await crowd_store.crowd_minutes(T0 - timedelta(minutes=5), service="chatgpt")
        if len(rows) >= 10:
            break
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    minutes = [m.minute for m in rows]
    assert minutes == sorted(set(minutes)) and len(minutes) >= 10
    assert any(m.reporters == 4 for m in rows)


async def test_a_job_restarted_in_a_running_server_takes_the_gap_for_quiet_minutes(
    crowd_store: Store,
) -> None:
    # Scored up to 11:10, then the job failed; restarted at 11:13:05 in a server that has
    # taken reports since 10:00, none since. 11:11 and 11:12 were quiet, not unheard:
    # scored and stored (unheard, they were skipped and every detector resumed afresh).
    settings = load_settings()
    scorer = new_scorer(settings)
    scorer.last_minute = T0 + timedelta(minutes=4)
    await crowd_store.add_report(_report(1, 5 * 60 + 10))
    await catch_up(scorer, crowd_store, ["chatgpt"], T0 + timedelta(minutes=11, seconds=5))
    clock = FrozenClock(T0 + timedelta(minutes=13, seconds=5))
    runtime = Runtime(settings=settings, store=crowd_store, catalog=Catalog.default(),
                      clock=clock, reports_since=T0 - timedelta(hours=1))
    task = asyncio.create_task(run(runtime))
    minutes: list[datetime] = []
    for _ in range(2000):
        await asyncio.sleep(0.01)
        rows = await crowd_store.crowd_minutes(T0, service="chatgpt")
        minutes = [m.minute for m in rows]
        if minutes and minutes[-1] >= T0 + timedelta(minutes=13):  # past the gap
            break
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert minutes[:8] == [T0 + timedelta(minutes=k) for k in range(5, 13)]


def _live_week_and_replay(older: frozenset[str]) -> tuple[CrowdScorer, CrowdScorer]:
    """A scorer that ran for 14 days, with a ×15 outage on day 7 from 10:00 to 11:00, and
    one that replayed its minutes from day 7 on, as `run` does after a restart."""
    rng = np.random.default_rng(8)
    live = CrowdScorer(CountConfig())
    stored = []
    start = T0.replace(hour=0, minute=0)
    for i in range(14 * 1440):
        minute = start + timedelta(minutes=i)
        n = int(rng.poisson(6.0 * (15 if i // 1440 == 7 and minute.hour == 10 else 1)))
        scored = live.score(minute, ["chatgpt"], {("chatgpt", minute): _voices(minute, n)})
        if i >= 7 * 1440:
            stored.extend(scored)
    replayed = CrowdScorer(CountConfig())
    replayed.replay(stored, ["chatgpt"], older)
    return live, replayed


def _voices(minute: datetime, n: int) -> Rollup:
    return Rollup(reporters=n, networks={f"{minute:%j%H%M}-{k}" for k in range(n)})


def test_a_restart_does_not_learn_the_outage_of_the_first_day_replayed() -> None:
    at = T0.replace(hour=10, minute=30) + timedelta(days=14)
    live, replayed = _live_week_and_replay(older=frozenset({"chatgpt"}))
    expected = live.detectors["chatgpt"].baseline.expected(at)
    assert expected == pytest.approx(6.0, rel=0.25)
    assert replayed.detectors["chatgpt"].baseline.expected(at) == pytest.approx(expected, rel=0.1)
    # Replayed as if the service were new, the outage's hour is taken for its rhythm.
    _, naive = _live_week_and_replay(older=frozenset())
    assert naive.detectors["chatgpt"].baseline.expected(at) > 1.5 * expected


async def test_the_store_says_which_services_have_older_minutes(crowd_store: Store) -> None:
    both = ["chatgpt", "gmail"]
    assert await crowd_store.services_with_minutes_before(T0, both) == frozenset()
    scorer = CrowdScorer(CountConfig())
    await crowd_store.save_crowd_minutes(scorer.score(T0, ["chatgpt"], {}))
    assert await crowd_store.services_with_minutes_before(T0, both) == frozenset()
    later = T0 + timedelta(minutes=1)
    assert await crowd_store.services_with_minutes_before(later, both) == {"chatgpt"}


def test_a_service_new_to_the_catalog_is_not_replayed_a_week_of_silence() -> None:
    # The week stored holds minutes of chatgpt only; gmail joins the catalog now. Fed a
    # week of zeros as an established service, its ordinary traffic was "detected" in
    # 1,839 of the next 4,320 minutes.
    old = CrowdScorer(CountConfig())
    start = T0.replace(hour=0, minute=0) - timedelta(days=7)
    stored = []
    for i in range(7 * 1440):
        minute = start + timedelta(minutes=i)
        stored.extend(old.score(minute, ["chatgpt"], {("chatgpt", minute): _voices(minute, 6)}))
    scorer = CrowdScorer(CountConfig())
    both = ["chatgpt", "gmail"]
    scorer.replay(stored, both, older=frozenset({"chatgpt"}))
    assert "gmail" not in scorer.detectors
    rng = np.random.default_rng(3)
    states = []
    for i in range(3 * 1440):
        minute = start + timedelta(days=7, minutes=i)
        n = int(rng.poisson(20.0))
        rollups = {(s, minute): _voices(minute, n) for s in both}
        states += [m.state for m in scorer.score(minute, both, rollups) if m.service == "gmail"]
    assert states.count(CrowdState.DETECTED) == 0


async def test_minutes_when_pantau_was_not_running_are_not_learnt_as_quiet(
    crowd_store: Store,
) -> None:
    # Three days at 20 reports a minute, four hours down, then the usual 20 a minute:
    # learnt as four hours of zeros, the first minutes back were an alarm.
    rng = np.random.default_rng(6)
    scorer = CrowdScorer(CountConfig())
    down = T0 - timedelta(hours=4)
    for i in range(3 * 1440, 0, -1):
        minute = down - timedelta(minutes=i)
        scorer.score(minute, ["chatgpt"], {("chatgpt", minute): _voices(minute, 20)})
    naive = copy.deepcopy(scorer)
    for minute in range(10):
        n = int(rng.poisson(20.0))
        await asyncio.gather(*(
            crowd_store.add_report(_report(minute * 100 + k, minute * 60 + k)) for k in range(n)))
    now = T0 + timedelta(minutes=10, seconds=5)
    done = await catch_up(scorer, crowd_store, ["chatgpt"], now, heard_from=T0)
    assert [m.minute for m in done] == [T0 + timedelta(minutes=k) for k in range(10)]
    assert not any(m.alarm for m in done) and done[-1].expected > 10
    assert scorer.last_minute == T0 + timedelta(minutes=9)
    # Not told when pantau started, the job takes the gap for quiet minutes.
    assert any(m.alarm for m in await catch_up(naive, crowd_store, ["chatgpt"], now))


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
    assert limiter.check(a, 0.0) == 66  # a tenth of the ten still weigh at 66 s, no more
    # Half into the next window: half of the last window still counts.
    assert [limiter.check(a, 90.0) for _ in range(5)] == [None] * 5
    assert limiter.check(a, 90.0) is not None
    assert limiter.check(a, 1000.0) is None


@pytest.mark.slow
@pytest.mark.parametrize(("zone", "alarms_on_mondays"), [(UTC, True), (JAKARTA, False)])
def test_the_detector_keeps_the_days_of_its_reporters(
    zone: tzinfo, alarms_on_mondays: bool
) -> None:
    # Ten reports a minute on weekdays in Jakarta, three at weekends. On UTC days, Sunday
    # ends at 07:00 WIB on Monday: Monday's first hours were learnt as Sunday's, and
    # every week they were a surge (alarms at 00:05-00:07 WIB on three seeds of four
    # weeks each). The job's scorer learns Jakarta's days (PANTAU_CROWD_TIMEZONE).
    rng = np.random.default_rng(2)
    scorer = CrowdScorer(CountConfig(), zone)
    start = datetime(2025, 1, 5, 17, tzinfo=UTC)  # Monday 00:00 WIB
    alarms = []
    for i in range(4 * 7 * 1440):
        minute = start + timedelta(minutes=i)
        local = minute.astimezone(JAKARTA)
        n = int(rng.poisson(3.0 if local.weekday() >= 5 else 10.0))
        rollup = Rollup(reporters=n, networks={f"n{i}-{k}" for k in range(n)})
        (scored,) = scorer.score(minute, ["bca-mobile"], {("bca-mobile", minute): rollup})
        if scored.alarm and i >= 3 * 7 * 1440:
            alarms.append(local)
    assert bool(alarms) is alarms_on_mondays
    assert all(a.weekday() == 0 and a.hour == 0 for a in alarms)
    assert new_scorer(load_settings()).zone == JAKARTA  # what the job and the demo run


async def test_a_minute_waits_for_the_reports_taken_in_it_to_be_written(
    crowd_store: Store,
) -> None:
    # The writer is busy (a slow transaction ahead, as in a surge), and a report taken
    # at 11:00:59 is written only after 11:01:02, when minute 11:00 is rolled up: it was
    # counted in no minute.
    scorer = CrowdScorer(CountConfig())
    scorer.last_minute = T0 - timedelta(minutes=1)
    slow = asyncio.create_task(crowd_store.writer.submit(lambda conn: time.sleep(0.5)))
    await asyncio.sleep(0.05)
    taken = asyncio.create_task(crowd_store.add_report(_report(1, 59)))
    await asyncio.sleep(0.05)
    done = await catch_up(scorer, crowd_store, ["chatgpt"], T0 + timedelta(minutes=1, seconds=3))
    assert [(m.minute, m.reporters) for m in done] == [(T0, 1)]
    assert taken.done() and slow.done()


async def test_a_long_catch_up_counts_what_the_minutes_counted_live(crowd_store: Store) -> None:
    # One reporter, counted at 11:00 and again at 11:50 (a voice anew after 30 minutes):
    # scored in one catch-up after a stop, 11:50's details were taken for repeats of
    # 11:00's, as "said before" reached across the whole span read.
    for i, minute in enumerate((0, 50)):
        at = T0 + timedelta(minutes=minute, seconds=10)
        await crowd_store.add_report(_report(i, (at - T0).total_seconds(), "net-r1")._replace(
            reporter="r1"))
    scorer = CrowdScorer(CountConfig())
    scorer.last_minute = T0 - timedelta(minutes=1)
    done = await catch_up(scorer, crowd_store, ["chatgpt"], T0 + timedelta(minutes=52, seconds=5))
    at_50 = next(m for m in done if m.minute == T0 + timedelta(minutes=50))
    assert (at_50.reporters, at_50.categories, at_50.texts) == (
        1, {"website": 1}, {"502 bad gateway": 1})
