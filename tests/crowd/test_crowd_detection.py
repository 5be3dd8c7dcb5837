"""From reports to alarms through the production counting path (identity, gate, rollup,
detector), without HTTP for the bulk: the distinct-network rule and the lab's streams."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from ipaddress import ip_address

import numpy as np

from pantau.crowd.gates import MemoryGate
from pantau.crowd.identity import Hasher, origin
from pantau.crowd.rollup import minute_of, rollup
from pantau.detect.counts import CountConfig
from pantau.detect.job import CrowdScorer
from pantau.lab.crowd import generate_reports
from pantau.lab.scenario import load_scenario
from pantau.signals import CrowdMinute
from pantau.store.reports import ReportRow

Raw = tuple[datetime, str, str, str]  # at, service, client id, address


class CountingPath:
    """What `Ingest` + the minute job do to reports, minus HTTP and the database."""

    def __init__(self, services: list[str]) -> None:
        self.services = services
        self.hasher = Hasher(b"test-secret")
        self.gate = MemoryGate(voices=3)
        self.scorer = CrowdScorer(CountConfig())
        self.pending: list[ReportRow] = []
        self.minute: datetime | None = None
        self.out: list[CrowdMinute] = []

    async def feed(self, reports: Iterable[Raw]) -> None:
        for at, service, client_id, address in reports:
            self._advance_to(minute_of(at))
            who = self.hasher.reporter(at.date(), client_id, origin(ip_address(address)))
            counted = self.gate.admit(service, who.reporter, who.network, at.timestamp())
            self.pending.append(
                ReportRow(service, at, who.reporter, who.network, "website", None, None, counted)
            )

    def _advance_to(self, minute: datetime) -> None:
        if self.minute is None:
            self.minute = minute
        while self.minute < minute:
            rolled = rollup(r for r in self.pending if minute_of(r.at) == self.minute)
            self.pending = [r for r in self.pending if minute_of(r.at) > self.minute]
            self.out.extend(self.scorer.score(self.minute, self.services, rolled))
            self.minute += timedelta(minutes=1)

    def flush(self, until: datetime) -> list[CrowdMinute]:
        self._advance_to(minute_of(until))
        return self.out


def normal_traffic(start: datetime, minutes: int, per_minute: float, seed: int) -> list[Raw]:
    """Diverse everyday reporters: each a fresh client on a random network."""
    rng = np.random.default_rng(seed)
    out = []
    for m in range(minutes):
        at = start + timedelta(minutes=m)
        for s in np.sort(rng.uniform(0, 60, rng.poisson(per_minute))):
            a, b, c = rng.integers(1, 250, 3)
            out.append(
                (
                    at + timedelta(seconds=float(s)),
                    "chatgpt",
                    f"u{m}-{s:.6f}",
                    f"100.{64 + a % 60}.{b}.{c}",
                )
            )
    return out


START = datetime(2025, 1, 20, tzinfo=UTC)


async def test_flood_from_twenty_addresses_raises_no_alarm_but_300_networks_do() -> None:
    path = CountingPath(["chatgpt"])
    await path.feed(normal_traffic(START, 2 * 1440, 0.5, seed=1))
    flood_start = START + timedelta(days=2)
    rng = np.random.default_rng(2)
    # 100,000 reports in one hour from 20 addresses in 20 networks, each with a new
    # client id (forged cookies): the worst case, as if no rate limit applied.
    flood = []
    seconds = np.sort(rng.uniform(0, 3600, 100_000))
    for i, s in enumerate(seconds):
        flood.append(
            (
                flood_start + timedelta(seconds=float(s)),
                "chatgpt",
                f"forged-{i}",
                f"198.18.{i % 20}.7",
            )
        )
    background = normal_traffic(flood_start, 3 * 60, 0.5, seed=3)
    # Then a real outage: 300 people from 300 networks within three minutes.
    onset = flood_start + timedelta(hours=3)
    outage = [
        (
            onset + timedelta(seconds=0.6 * i),
            "chatgpt",
            f"user-{i}",
            f"100.{64 + i // 250}.{i % 250}.9",
        )
        for i in range(300)
    ]
    await path.feed(sorted(flood + background))
    before_outage = [m for m in path.flush(onset) if m.minute >= flood_start]
    assert len(before_outage) == 180
    assert not [m for m in before_outage if m.alarm]
    # The gate let each network add at most 3 voices per 30 minutes.
    flood_voices = sum(m.reporters for m in before_outage) - len(background)
    assert flood_voices <= 20 * 3 * 2
    await path.feed(outage)
    alarms = [m for m in path.flush(onset + timedelta(minutes=10)) if m.alarm]
    assert len(alarms) == 1 and onset <= alarms[0].minute <= onset + timedelta(minutes=3)


async def test_lab_chatgpt_stream_is_detected_within_minutes_and_quiet_days_are_quiet() -> None:
    scenario = load_scenario("chatgpt-2025-01-23")
    services = [s.slug for s in scenario.services]
    path = CountingPath(services)

    def raw(start: timedelta, end: timedelta) -> list[Raw]:
        return [
            (r.at, r.service, r.client_id, r.ip)
            for r in generate_reports(scenario, start=start, end=end)
        ]

    # Three quiet days before the evening of the outage, then the scenario itself.
    await path.feed(raw(-timedelta(days=3), timedelta(0)))
    quiet = path.flush(scenario.start)
    assert not [m for m in quiet if m.alarm]
    await path.feed(raw(timedelta(0), scenario.duration))
    minutes = path.flush(scenario.start + scenario.duration)
    alarms = [(m.service, m.minute) for m in minutes if m.alarm]
    surge = scenario.start + timedelta(minutes=34)
    assert len(alarms) == 1
    service, at = alarms[0]
    assert service == "chatgpt" and surge <= at <= surge + timedelta(minutes=5)


async def test_lab_chatgpt_stream_is_detected_by_a_server_with_no_history() -> None:
    # `pantau demo` starts on an empty database: the priors must carry the first minutes.
    scenario = load_scenario("chatgpt-2025-01-23")
    path = CountingPath([s.slug for s in scenario.services])
    await path.feed([(r.at, r.service, r.client_id, r.ip) for r in generate_reports(scenario)])
    minutes = path.flush(scenario.start + scenario.duration)
    alarms = [(m.service, m.minute - scenario.start) for m in minutes if m.alarm]
    assert len(alarms) == 1 and alarms[0][0] == "chatgpt"
    assert timedelta(minutes=34) <= alarms[0][1] <= timedelta(minutes=40)
