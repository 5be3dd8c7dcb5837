"""The crowd detector's minute job in `pantau serve`: rollups in, `CrowdMinute` rows out.

Each complete minute, for every catalog service: roll up the minute's reports,
score it with that service's `CountDetector`, and store the result (written for
every minute, zeros included, so pages can draw reports against the expected
level). On start the detectors replay the stored minutes of the last week, so a
restart neither forgets the baseline nor raises an alarm twice; the first minute
scored after a start also reads the reports of the half hour before it, so the
distinct networks of the detector's windows are complete from the start.

Minutes in which nobody could report, as pantau was not running, are not quiet
minutes: learnt as zeros, four hours of them lowered the level so far that the
morning's usual reports were an alarm. They are neither scored nor stored, and the
detectors go on after them as after a gap (`CountDetector.resume`): in the replay, a
minute no service has a row for; after a start, a minute before it that no service
has a report in.
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
"""A minute is scored this long after it ends, so its last group commits have landed
(other processes' too); this process's own are waited for (`SETTLE_SECONDS`)."""
SETTLE_SECONDS = 30.0
"""How long a minute waits, before it is rolled up, for the reports this process is
writing into it (`ReportsStoreMixin.settle_reports`); one written later is stored, and
counted, in a later minute."""
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
    established: frozenset[str] = frozenset()
    """The services with minutes older than the replayed ones: see `replay`."""
    unheard: bool = False
    """Minutes nobody could report in came before the next one scored."""

    def _detector(self, service: str) -> CountDetector:
        det = self.detectors.get(service)
        if det is None:
            det = self.detectors[service] = CountDetector(
                self.config, service in self.established
            )
        return det

    def _resume_if_unheard(self) -> None:
        if self.unheard:
            for det in self.detectors.values():
                det.resume()
            self.unheard = False

    def _recent(self, service: str) -> RecentNetworks:
        recent = self.recent.get(service)
        if recent is None:
            recent = self.recent[service] = RecentNetworks(NETWORK_WINDOWS, self.zone)
        return recent

    def replay(
        self, history: list[CrowdMinute], services: list[str], older: frozenset[str]
    ) -> None:
        """Re-learn from stored minutes, each service's from its first one on.

        `older`: the services whose minutes older than these are stored too. Then the
        job ran before them, its detectors knew every time of day, and the replayed ones
        must not learn what they would take, starting empty, for times of day first seen
        (an outage on the first day replayed, learnt again at every restart). Else the
        job started with these minutes (or the service joined the catalog among them),
        as the replay does, and it learns as the job did. A minute that no service has
        a row for was not heard (pantau was not running); a service's minute missing
        among others' is a quiet one."""
        self.established = older
        by_minute: dict[datetime, dict[str, CrowdMinute]] = {}
        first: dict[str, datetime] = {}
        for m in history:
            by_minute.setdefault(m.minute, {})[m.service] = m
            first[m.service] = min(first.get(m.service, m.minute), m.minute)
        if not by_minute:
            return
        minute, last = min(by_minute), max(by_minute)
        while minute <= last:
            stored = by_minute.get(minute)
            if stored is None:
                self.unheard = True
                minute += MINUTE
                continue
            self._resume_if_unheard()
            local = minute.astimezone(self.zone)
            for service in services:
                if service not in first or minute < first[service]:
                    continue  # not in the catalog yet: nothing to learn, not even quiet
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
        self._resume_if_unheard()
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
    heard_from: datetime | None,
) -> list[CrowdMinute]:
    """Note the minutes from `since` on and score the minutes `first`..`last`, but for
    those before `heard_from` that no service has a report in."""
    rollups = from_counts(counts)
    reported = {minute for _, minute in rollups}
    minute = since
    while minute < first:
        scorer.note(minute, services, rollups)
        minute += MINUTE
    done: list[CrowdMinute] = []
    while minute <= last:
        if heard_from is not None and minute < heard_from and minute not in reported:
            scorer.note(minute, services, rollups)
            scorer.unheard = True
        else:
            done.extend(scorer.score(minute, services, rollups))
        scorer.last_minute = minute
        minute += MINUTE
    return done


async def catch_up(
    scorer: CrowdScorer,
    store: ReportsStoreMixin,
    services: list[str],
    now: datetime,
    heard_from: datetime | None = None,
) -> list[CrowdMinute]:
    """Score every complete minute not scored yet; returns what was stored.

    `heard_from`: when reports could first be taken (this server's start). A minute
    before it that no service has a report in was not heard: pantau was not running."""
    newest_complete = minute_of(now - timedelta(seconds=COMMIT_GRACE_SECONDS)) - MINUTE
    first = newest_complete - MAX_CATCH_UP + MINUTE
    if scorer.last_minute is not None:
        first = max(first, scorer.last_minute + MINUTE)
    if first > newest_complete:
        return []
    since = scorer.reads_from(first, services)
    await store.settle_reports(SETTLE_SECONDS, before=newest_complete + MINUTE)
    # A minute at a time, as the job rolls them up when it keeps up: over a longer span
    # "said before" and "holds a voice" would reach across all of it, not 30 minutes
    # (a catch-up after a stop counted other details than the minutes had live).
    counts: list[RollupCount] = []
    minute = since
    while minute <= newest_complete:
        counts += await store.rollup_counts(minute, minute + MINUTE, REPEATS_WITHIN)
        minute += MINUTE
    # In a thread: a surge's minute holds its networks, 100,000 and more, and the
    # windows' distinct counts walk them; on the event loop's thread every report and
    # page would wait for that (bench/minute_job.py). The scorer is this job's alone.
    done = await asyncio.to_thread(
        _score, scorer, services, counts, since, first, newest_complete, heard_from
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
    # Restarted after a failure, or taking over from another process, the job was not
    # running for a while, but the server was taking reports: those minutes were heard.
    heard_from = ctx.reports_since or now
    since = minute_of(now) - WARM_UP
    history = await store.crowd_minutes(since)
    older = await store.services_with_minutes_before(since, services)
    await asyncio.to_thread(scorer.replay, history, services, older)
    if scorer.last_minute is None:
        # A fresh database: start with the current minute, not a day of empty ones.
        scorer.last_minute = minute_of(now) - 2 * MINUTE
    last_purge: datetime | None = None
    while True:
        now = ctx.clock.now()
        await catch_up(scorer, store, services, now, heard_from=heard_from)
        if last_purge is None or now - last_purge >= PURGE_EVERY:
            await store.purge_reports(now - timedelta(days=ctx.settings.retention_days))
            last_purge = now
        into_minute = (now - minute_of(now)).total_seconds()
        await ctx.clock.sleep(60.0 - into_minute + COMMIT_GRACE_SECONDS)
