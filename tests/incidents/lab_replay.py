"""Replay a lab scenario through the real pipeline at full speed, into the pure fusion.

Real lab servers (origins, CDN edges, DNS, status pages, vantage points), real probes
from each vantage point (the probe engine, its classifier and vantage self-check), the
crowd detector over the lab's deterministic report stream, and the official adapters
polling the lab's status server. Time is a `FrozenClock` advanced minute by minute.
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import httpx

from pantau.catalog import Catalog
from pantau.clock import FrozenClock
from pantau.crowd.rollup import RecentNetworks
from pantau.detect.counts import NETWORK_WINDOWS, CountDetector
from pantau.incidents.engine import FusionEngine, Minute, ServiceInput
from pantau.incidents.model import Incident
from pantau.lab.crowd import SimReport, generate_reports
from pantau.lab.lab import Lab
from pantau.lab.scenario import Scenario
from pantau.official.detect import ADAPTERS
from pantau.official.mapping import service_view
from pantau.official.model import PageKind
from pantau.official.poller import PagePoller
from pantau.probes.classify import classify, to_verdict
from pantau.probes.http import HttpCheck
from pantau.probes.job import monitors_from_catalog
from pantau.probes.prober import Prober
from pantau.probes.resolve import DnsClient, Nameserver
from pantau.probes.scheduler import Monitor
from pantau.probes.ssrf import Guard
from pantau.probes.vantage import SelfCheck
from pantau.signals import CrowdMinute, OfficialStatus, ProbeVerdict

M = timedelta(minutes=1)
WARM_UP = timedelta(days=3)
"""Quiet days fed to the detector before offset 0, so it knows each service's level."""
PROBE_EVERY = 5
"""Minutes between probe rounds (a real scheduler probes every minute or few)."""
POLL_EVERY = 3
"""Minutes between official status page polls."""
CHECK_TIMEOUT = 0.5
NETWORK_VOICES = 3
VOICE_WINDOW = 30
"""Distinct reporters one /24 may add per 30 minutes, as the crowd pipeline caps them."""


def rollup(reports: Iterable[SimReport]) -> dict[tuple[str, datetime], dict[str, Counter[str]]]:
    """Per (service, minute): distinct reporters per network, categories, regions, texts."""
    seen: dict[tuple[str, str, int], set[str]] = defaultdict(set)
    out: dict[tuple[str, datetime], dict[str, Counter[str]]] = defaultdict(
        lambda: defaultdict(Counter))
    for r in reports:
        key = (r.service, r.at.replace(second=0, microsecond=0))
        window = int(r.at.timestamp() // (60 * VOICE_WINDOW))
        voices = seen[(r.service, r.network, window)]
        if r.client_id in voices or len(voices) >= NETWORK_VOICES:
            continue
        voices.add(r.client_id)
        out[key]["categories"][r.category] += 1
        out[key]["regions"][r.region] += 1
        if r.text:
            out[key]["texts"][r.text] += 1
        out[key]["networks"][r.network] += 1
    return out


@dataclass
class Crowd:
    """The detector fed with the lab's report stream, one minute at a time."""

    scenario: Scenario
    detectors: dict[str, CountDetector] = field(default_factory=dict)
    recent: dict[str, RecentNetworks] = field(default_factory=dict)
    history: dict[str, list[CrowdMinute]] = field(default_factory=lambda: defaultdict(list))

    def __post_init__(self) -> None:
        self.rolled = rollup(generate_reports(self.scenario, start=-WARM_UP))
        for spec in self.scenario.services:
            self.detectors[spec.slug] = CountDetector()
            self.recent[spec.slug] = RecentNetworks(NETWORK_WINDOWS)
        minute = self.scenario.start - WARM_UP
        while minute < self.scenario.start:
            self.step(minute)
            minute += M

    def step(self, minute: datetime) -> dict[str, CrowdMinute]:
        out = {}
        for slug, det in self.detectors.items():
            r = self.rolled.get((slug, minute), {})
            reporters = sum(r.get("categories", Counter()).values())
            networks = len(r.get("networks", Counter()))
            self.recent[slug].add(minute, r.get("networks", Counter()))
            ten, thirty = distinct = self.recent[slug].counts(minute)
            s = det.update(minute, reporters, distinct)
            cm = CrowdMinute(service=slug, minute=minute, reporters=reporters,
                             networks=networks, networks_10m=ten, networks_30m=thirty,
                             expected=s.expected, score=s.score,
                             state=s.state, alarm=s.alarm,
                             categories=dict(r.get("categories", {})),
                             regions=dict(r.get("regions", {})),
                             texts=dict(r.get("texts", {})))
            self.history[slug] = [*self.history[slug][-15:], cm]
            out[slug] = cm
        return out


async def _probe_from(lab: Lab, name: str, monitors: list[Monitor],
                      clock: FrozenClock) -> list[ProbeVerdict]:
    vantage = lab.vantages[name]
    host, port = vantage.dns_address
    dns = DnsClient([Nameserver(host, port)])
    async with Prober(dns, Guard(allow_private=True), ca_file=str(lab.ca_file),
                      clock=clock) as prober:
        canary = HttpCheck(vantage.canary_url, expected_status=(204,), timeout=CHECK_TIMEOUT)
        self_check = SelfCheck(prober, [canary], clock)

        async def one(monitor: Monitor) -> ProbeVerdict:
            at = clock.now()
            obs = await prober.run(replace(monitor.check, timeout=CHECK_TIMEOUT))
            diagnosis = classify(obs)
            reliable = diagnosis.ok or await self_check.reliable(diagnosis.layer)
            return to_verdict(obs, diagnosis, service=monitor.service, monitor=monitor.id,
                              vantage=name, at=at, reliable=reliable)

        return list(await asyncio.gather(*(one(m) for m in monitors)))


async def probe_round(lab: Lab, catalog: Catalog, clock: FrozenClock) -> list[ProbeVerdict]:
    """Every catalog endpoint from every vantage point, concurrently, as a scheduler would."""
    monitors = monitors_from_catalog(catalog)
    rounds = await asyncio.gather(*(_probe_from(lab, name, monitors, clock)
                                    for name in lab.vantages))
    return [v for r in rounds for v in r]


@dataclass
class Replay:
    minutes: dict[timedelta, Minute] = field(default_factory=dict)
    shared: dict[timedelta, list[Incident]] = field(default_factory=dict)
    """The shared (CDN) incidents open after each minute."""


OnMinute = Callable[[Lab, timedelta, Minute], Awaitable[None]]


async def replay(scenario: Scenario, until: timedelta | None = None,
                 on_minute: OnMinute | None = None, clock: FrozenClock | None = None) -> Replay:
    """Fuse every minute of `scenario` (up to `until`); returns each minute's result.
    `on_minute` sees each fused minute while the lab is still in that minute's state."""
    end = until if until is not None else scenario.duration
    clock = clock or FrozenClock(scenario.start)
    crowd = Crowd(scenario)
    engine = FusionEngine()
    result = Replay()
    async with Lab.start(scenario, clock=clock, connect_timeout=0.5, read_timeout=1.0,
                         slow_seconds=1.5) as lab, httpx.AsyncClient() as client:
        catalog = lab.catalog()
        pollers = {}
        for s in catalog.services:
            assert s.status_page is not None
            kind = PageKind(s.status_page.kind.value)
            pollers[s.slug] = PagePoller(str(s.status_page.url), ADAPTERS[kind], client, clock)
        probes: list[ProbeVerdict] = []
        official: dict[str, OfficialStatus] = {}
        offset = timedelta(0)
        while offset <= end:
            clock.advance((scenario.start + offset - clock.now()).total_seconds())
            await lab.apply(scenario, offset)
            now = clock.now()
            minute = offset // M
            if minute % PROBE_EVERY == 0:
                probes = await probe_round(lab, catalog, clock)
            if minute % POLL_EVERY == 0:
                for s in catalog.services:
                    polled = await pollers[s.slug].poll()
                    if polled.snapshot is not None:
                        official[s.slug] = service_view(s, polled.snapshot)
            crowd_now = crowd.step(now)
            inputs = [ServiceInput(s.slug, s.name, s.cdn, crowd_now[s.slug],
                                   [v for v in probes if v.service == s.slug],
                                   official.get(s.slug), crowd.history[s.slug])
                      for s in catalog.services]
            result.minutes[offset] = engine.step(now, inputs)
            result.shared[offset] = list(engine.open_shared.values())
            if on_minute is not None:
                await on_minute(lab, offset, result.minutes[offset])
            offset += M
    return result
