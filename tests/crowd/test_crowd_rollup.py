"""Rollups: repeats add details without adding voices; networks counted distinct over windows."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from ipaddress import ip_address
from zoneinfo import ZoneInfo

from pantau.crowd.identity import Hasher, origin
from pantau.crowd.rollup import RecentNetworks, Rollup, from_counts, rollup
from pantau.detect.counts import CountConfig
from pantau.detect.job import REPEATS_WITHIN, CrowdScorer, catch_up
from pantau.signals import CrowdState
from pantau.store import Store
from pantau.store.report_insert import NewReport
from pantau.store.reports import ReportRow
from tests.crowd.crowd_fixtures import T0, crowd_store

__all__ = ["crowd_store"]


def _row(
    seconds: float, reporter: str, counted: bool = True, text: str | None = "error 502",
    category: str = "website", network: str = "n1",
) -> ReportRow:
    return ReportRow(
        "chatgpt", T0 + timedelta(seconds=seconds), reporter, network, category, "ID-JK", text,
        counted,
    )


def test_a_repeat_adds_new_details_but_no_voice() -> None:
    rows = [
        _row(1, "a"),
        _row(2, "b", network="n2"),
        _row(10, "a", counted=False, text="login loop", category="login"),
        _row(20, "a", counted=False),  # the same text again: nothing new
        _row(30, "a", counted=False, text="login loop"),
    ]
    (r,) = rollup(rows).values()
    assert (r.reporters, r.networks, r.regions) == (2, {"n1", "n2"}, {"ID-JK": 2})
    assert r.texts == {"error 502": 2, "login loop": 1}
    assert r.categories == {"website": 2, "login": 1}


def test_details_given_before_the_rollup_are_not_counted_again() -> None:
    since = T0 + timedelta(minutes=10)
    rows = [
        _row(0, "a"),  # read only as what "a" said before
        _row(600, "a", counted=False),
        _row(610, "a", counted=False, text="timeout"),
    ]
    rolled = rollup(rows, since)
    assert list(rolled) == [("chatgpt", since)]
    r = rolled[("chatgpt", since)]
    assert (r.reporters, r.texts, r.categories) == (0, {"timeout": 1}, {})


def test_recent_networks_are_distinct_over_each_window() -> None:
    recent = RecentNetworks((10, 30))
    for m in range(40):
        # The same two networks every minute, and a new one every minute.
        recent.add(T0 + timedelta(minutes=m), {"x", "y", f"n{m}"})
    assert recent.counts(T0 + timedelta(minutes=39)) == (12, 32)
    assert not recent.holds(T0 + timedelta(minutes=9)) and recent.holds(T0 + timedelta(minutes=10))
    recent.add(T0 + timedelta(minutes=39), set())  # a minute noted again replaces itself
    assert recent.counts(T0 + timedelta(minutes=39)) == (11, 31)


def test_a_flood_past_midnight_is_not_counted_twice_by_its_daily_hashes() -> None:
    """20 networks reporting every minute from 23:45 to 00:15 (Jakarta time): each
    network's stored hash changes at midnight, and no window counts 40."""
    zone = ZoneInfo("Asia/Jakarta")
    hasher = Hasher(b"secret", zone)
    recent = RecentNetworks((10, 30), zone)
    midnight = datetime(2025, 1, 24, tzinfo=zone)

    def hashed(minute: datetime, networks: range) -> set[str]:
        day = hasher.day_of(minute, minute.timestamp())
        return {
            hasher.reporter(day, None, origin(ip_address(f"10.0.{n}.9"))).network
            for n in networks
        }

    counts = []
    for m in range(-15, 16):
        minute = midnight + timedelta(minutes=m)
        recent.add(minute, hashed(minute, range(20)))
        counts.append(recent.counts(minute))
    assert max(max(c) for c in counts) == 20
    # A network new after midnight is counted once the day has more than the last.
    later = midnight + timedelta(minutes=16)
    recent.add(later, hashed(later, range(21)))
    assert recent.counts(later) == (21, 21)


def _report(
    i: int, seconds: float, reporter: str, network: str, counted: bool, text: str = "error 502"
) -> NewReport:
    return NewReport(
        id=f"{i:032x}", service="chatgpt", at=T0 + timedelta(seconds=seconds), reporter=reporter,
        network=network, category="website", region="ID-JK", text=text, text_norm=text,
        counted=counted,
    )


async def test_store_reads_repeats_of_voices_but_not_a_flood_past_its_budget(
    crowd_store: Store,
) -> None:
    reports = [
        _report(1, 30, "a", "n1", True),  # a voice, 20 minutes before the rollup
        _report(2, 1230, "a", "n1", False, "login loop"),  # its repeat: a new detail
        _report(3, 1240, "a", "n1", False),  # a detail "a" gave before
        _report(4, 1250, "f", "n9", False, "spam"),  # past its network's budget
        _report(5, 1255, "b", "n2", True),
    ]
    for r in reports:
        await crowd_store.add_report(r)
    since = T0 + timedelta(minutes=20)
    rows = await crowd_store.rollup_rows(since, since + timedelta(minutes=1), REPEATS_WITHIN)
    assert [(r.reporter, r.at < since) for r in rows] == [
        ("a", True), ("a", False), ("a", False), ("b", False)
    ]
    (r,) = rollup(rows, since).values()
    assert (r.reporters, r.texts) == (1, {"login loop": 1, "error 502": 1})


async def test_a_network_reporting_every_minute_is_one_network(crowd_store: Store) -> None:
    # 20 networks, each with its three voices in three different minutes: 60 voices
    # and 20 networks a minute. Summed per minute that is 60 network-voices in ten
    # minutes, more than the 25 a detection needs; counted distinct it is 20.
    scorer = CrowdScorer(CountConfig())
    for m in range(-120, 0):  # two quiet hours first: past the detector's learning minutes
        scorer.score(T0 + timedelta(minutes=m), ["chatgpt"], {})
    i = 0
    for minute in range(3):
        for net in range(20):
            i += 1
            await crowd_store.add_report(_report(i, 60 * minute + net, f"r{i}", f"n{net}", True))
    done = await catch_up(scorer, crowd_store, ["chatgpt"], T0 + timedelta(minutes=3, seconds=5))
    assert [(m.reporters, m.networks, m.networks_10m) for m in done] == [(20, 20, 20)] * 3
    assert [m.state for m in done] == [CrowdState.POSSIBLE] * 3
    assert not any(m.alarm for m in done)


async def test_after_a_restart_the_first_minute_sees_the_networks_before_it(
    crowd_store: Store,
) -> None:
    for i in range(5):
        await crowd_store.add_report(_report(i, 60 * i, f"r{i}", f"n{i}", True))
    scorer = CrowdScorer(CountConfig())
    scorer.last_minute = T0 + timedelta(minutes=9)  # minutes 0-9 scored before the restart
    (m,) = await catch_up(scorer, crowd_store, ["chatgpt"], T0 + timedelta(minutes=11, seconds=5))
    assert m.minute == T0 + timedelta(minutes=10)
    assert (m.networks, m.networks_10m, m.networks_30m) == (0, 4, 5)
    # From then on only new minutes are read.
    assert scorer.reads_from(T0 + timedelta(minutes=11), ["chatgpt"]) == T0 + timedelta(minutes=11)


async def test_the_database_counts_the_rollup_as_python_does(crowd_store: Store) -> None:
    # Random reports over 40 minutes: voices, their repeats with old and new details,
    # a flood past its budget, three services, regions and texts now and then.
    rng = random.Random(3)
    reports = []
    for i in range(1500):
        counted = rng.random() < 0.6
        # A third of the times on a whole minute, where the rollup's edges are.
        seconds = rng.uniform(0, 40 * 60) if i % 3 else 60.0 * rng.randrange(41)
        reports.append(NewReport(
            id=f"{i:032x}", service=rng.choice(["chatgpt", "gmail", "bca"]),
            at=T0 + timedelta(seconds=seconds),
            reporter=f"r{rng.randrange(300)}", network=f"n{rng.randrange(60)}",
            category=rng.choice(["website", "app", "login"]),
            region=rng.choice([None, "", "ID-JK", "ID-JB"]),
            text=None, text_norm=rng.choice([None, "", "502 bad gateway", "timeout", "otp"]),
            counted=counted,
        ))
    for r in reports:
        await crowd_store.add_report(r)
    windows = ((T0 + timedelta(minutes=30), 10), (T0, 5), (T0 + timedelta(minutes=12), 1))
    for since, minutes in windows:
        until = since + timedelta(minutes=minutes)
        rows = await crowd_store.rollup_rows(since, until, REPEATS_WITHIN)
        # Minutes with nothing to count (repeats of what was said) are left out.
        expected = {k: r for k, r in rollup(rows, since).items() if r != Rollup()}
        got = from_counts(await crowd_store.rollup_counts(since, until, REPEATS_WITHIN))
        assert got == expected
        assert sum(r.reporters for r in got.values()) > 0
        assert any(r.texts for r in got.values()) and any(r.regions for r in got.values())


def test_the_top_texts_tie_in_one_order_whatever_order_they_came_in() -> None:
    # Seven texts said by one reporter each: which five are kept must not depend on the
    # order the database gave the rows in (SQLite's and PostgreSQL's differ).
    texts = [f"error {c}" for c in "gfedcba"]
    kept = set()
    for seed in range(5):
        shuffled = texts[:]
        random.Random(seed).shuffle(shuffled)
        minute = Rollup()
        minute.texts.update(shuffled)
        minute.texts["error z"] += 2
        kept.add(tuple(minute.top_texts().items()))
    assert kept == {(("error z", 2), ("error a", 1), ("error b", 1), ("error c", 1),
                     ("error d", 1))}
