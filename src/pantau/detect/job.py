"""The crowd detector's minute job in `pantau serve`: rollups in, `CrowdMinute` rows out.

Each complete minute, for every catalog service: roll up the minute's reports,
score it with that service's `CountDetector`, and store the result (written for
every minute, zeros included, so pages can draw reports against the expected
level). On start the detectors replay the stored minutes of the last week, so a
restart neither forgets the baseline nor raises an alarm twice; the first minute
scored after a start also reads the reports of the half hour before it, so the
distinct networks of the detector's windows are complete from the start.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from pantau.crowd.gates import WINDOW_SECONDS
from pantau.crowd.rollup import RecentNetworks, Rollup, from_counts, minute_of
from pantau.detect.baseline import BaselineConfig
from pantau.detect.counts import NETWORK_WINDOWS, CountConfig, CountDetector
from pantau.runtime import Runtime
from pantau.settings import Settings
from pantau.signals import CrowdMinute
from pantau.store.reports import ReportsStoreMixin, RollupCount, reports_store

log = logging.getLogger(__name__)
MINUTE = timedelta(minutes=1)
WARM_UP = timedelta(days=7)
MAX_CATCH_UP = timedelta(days=1)
"""After a long stop, older minutes are not rescored: they would only raise stale alarms."""
COMMIT_GRACE_SECONDS = 2.0
"""A minute is scored this long after it ends, so its last group commits have landed."""
PURGE_EVERY = timedelta(hours=1)
REPEATS_WITHIN = timedelta(seconds=WINDOW_SECONDS)
"""A repeat adds details unless its reporter gave them this long before (the gate's window)."""


def count_config(settings: Settings) -> CountConfig:
    return CountConfig(
        min_networks=settings.crowd_min_networks,
        baseline=BaselineConfig(prior_rate=settings.crowd_prior_rate),
    )


def new_scorer(settings: Settings) -> CrowdScorer:
    """The scorer the job runs with these settings."""
    return CrowdScorer(count_config(settings), ZoneInfo(settings.crowd_timezone))


@dataclass(slots=True)
class CrowdScorer:
    """The pure part of the job: detectors per service, fed minute by minute."""

    config: CountConfig
    zone: tzinfo = UTC
    """Whose days and times of day the detectors learn (PANTAU_CROWD_TIMEZONE): where
    most reporters live, so that a weekend, an evening or a holiday begins when theirs
    does, not at midnight UTC (07:00 in Jakarta)."""
    detectors: dict[str, CountDetector] = field(default_factory=dict)
    recent: dict[str, RecentNetworks] = field(default_factory=dict)
    last_minute: datetime | None = None
    established: bool = False
    """Minutes older than the replayed ones are stored: see `replay`."""

    def _detector(self, service: str) -> CountDetector:
        det = self.detectors.get(service)
        if det is None:
            det = self.detectors[service] = CountDetector(self.config, self.established)
        return det

    def _recent(self, service: str) -> RecentNetworks:
        recent = self.recent.get(service)
        if recent is None:
            recent = self.recent[service] = RecentNetworks(NETWORK_WINDOWS)
        return recent

    def replay(self, history: list[CrowdMinute], services: list[str], older: bool) -> None:
        """Re-learn from stored minutes (gaps count as quiet minutes).

        `older`: minutes older than these are stored too. Then the job ran before
        them, its detectors knew every time of day, and the replayed ones must not
        learn what they would take, starting empty, for times of day first seen (an
        outage on the first day replayed, learnt again at every restart). Else the
        job started with these minutes, as the replay does, and it learns as the job
        did."""
        self.established = older
        by_minute: dict[datetime, dict[str, CrowdMinute]] = {}
        for m in history:
            by_minute.setdefault(m.minute, {})[m.service] = m
        if not by_minute:
            return
        minute, last = min(by_minute), max(by_minute)
        while minute <= last:
            stored = by_minute.get(minute, {})
            local = minute.astimezone(self.zone)
            for service in services:
                seen = stored.get(service)
                networks = (seen.networks_10m, seen.networks_30m) if seen else (0, 0)
                self._detector(service).update(local, seen.reporters if seen else 0, networks)
            minute += MINUTE
        self.last_minute = last

    def reads_from(self, first: datetime, services: list[str]) -> datetime:
        """Where the reports to score minutes from `first` on must be read from: earlier
        when the networks of the minutes before are not held (after a start)."""
        before = first - MINUTE
        if all(self._recent(s).holds(before) for s in services):
            return first
        return first - timedelta(minutes=max(NETWORK_WINDOWS) - 1)

    def note(
        self, minute: datetime, services: list[str], rollups: dict[tuple[str, datetime], Rollup]
    ) -> None:
        """Hold a minute's networks without scoring it (it was scored before a restart)."""
        for service in services:
            r = rollups.get((service, minute)) or Rollup()
            self._recent(service).add(minute, r.networks)

    def score(
        self, minute: datetime, services: list[str], rollups: dict[tuple[str, datetime], Rollup]
    ) -> list[CrowdMinute]:
        out = []
        self.note(minute, services, rollups)
        local = minute.astimezone(self.zone)
        for service in services:
            r = rollups.get((service, minute)) or Rollup()
            ten, thirty = networks = self._recent(service).counts(minute)
            s = self._detector(service).update(local, r.reporters, networks)
            out.append(
                CrowdMinute(
                    service=service,
                    minute=minute,
                    reporters=r.reporters,
                    networks=len(r.networks),
                    networks_10m=ten,
                    networks_30m=thirty,
                    expected=s.expected,
                    score=s.score,
                    state=s.state,
                    alarm=s.alarm,
                    categories=dict(r.categories),
                    regions=dict(r.regions),
                    texts=r.top_texts(),
                )
            )
        self.last_minute = minute
        return out


def _score(
    scorer: CrowdScorer,
    services: list[str],
    counts: list[RollupCount],
    since: datetime,
    first: datetime,
    last: datetime,
) -> list[CrowdMinute]:
    """Note the minutes from `since` on and score the minutes `first`..`last`."""
    rollups = from_counts(counts)
    minute = since
    while minute < first:
        scorer.note(minute, services, rollups)
        minute += MINUTE
    done: list[CrowdMinute] = []
    while minute <= last:
        done.extend(scorer.score(minute, services, rollups))
        minute += MINUTE
    return done


async def catch_up(
    scorer: CrowdScorer, store: ReportsStoreMixin, services: list[str], now: datetime
) -> list[CrowdMinute]:
    """Score every complete minute not scored yet; returns what was stored."""
    newest_complete = minute_of(now - timedelta(seconds=COMMIT_GRACE_SECONDS)) - MINUTE
    first = newest_complete - MAX_CATCH_UP + MINUTE
    if scorer.last_minute is not None:
        first = max(first, scorer.last_minute + MINUTE)
    if first > newest_complete:
        return []
    since = scorer.reads_from(first, services)
    counts = await store.rollup_counts(since, newest_complete + MINUTE, REPEATS_WITHIN)
    # In a thread: a surge's minute holds its networks, 100,000 and more, and the
    # windows' distinct counts walk them; on the event loop's thread every report and
    # page would wait for that (bench/minute_job.py). The scorer is this job's alone.
    done = await asyncio.to_thread(
        _score, scorer, services, counts, since, first, newest_complete
    )
    await store.save_crowd_minutes(done)
    for m in done:
        if m.alarm:
            log.info(
                "crowd alarm for %s at %s: %d reporters, %.1f expected",
                m.service,
                m.minute.isoformat(),
                m.reporters,
                m.expected,
            )
    return done


async def run(ctx: Runtime) -> None:
    store = reports_store(ctx.store)
    services = [s.slug for s in ctx.catalog.services]
    scorer = new_scorer(ctx.settings)
    now = ctx.clock.now()
    since = minute_of(now) - WARM_UP
    history = await store.crowd_minutes(since)
    older = await store.crowd_minutes_before(since)
    await asyncio.to_thread(scorer.replay, history, services, older)
    if scorer.last_minute is None:
        # A fresh database: start with the current minute, not a day of empty ones.
        scorer.last_minute = minute_of(now) - 2 * MINUTE
    last_purge: datetime | None = None
    while True:
        now = ctx.clock.now()
        await catch_up(scorer, store, services, now)
        if last_purge is None or now - last_purge >= PURGE_EVERY:
            await store.purge_reports(now - timedelta(days=ctx.settings.retention_days))
            last_purge = now
        into_minute = (now - minute_of(now)).total_seconds()
        await ctx.clock.sleep(60.0 - into_minute + COMMIT_GRACE_SECONDS)
