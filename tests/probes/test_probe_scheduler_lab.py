"""The scheduler against the lab: an origin outage versus a vantage point cut off."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime

from pantau.clock import ScaledClock
from pantau.lab.lab import Lab
from pantau.lab.modes import OriginMode, Personality
from pantau.lab.scenario import ServiceSpec, Vantage
from pantau.probes.debounce import MonitorState, MonitorStatus, Thresholds
from pantau.probes.http import HttpCheck
from pantau.probes.netchecks import DnsCheck
from pantau.probes.prober import Prober
from pantau.probes.resolve import DnsClient, Nameserver
from pantau.probes.scheduler import Monitor, Scheduler
from pantau.probes.ssrf import Guard
from pantau.probes.vantage import SelfCheck
from pantau.signals import Layer, ProbeVerdict

T0 = datetime(2025, 1, 23, 12, 0, tzinfo=UTC)


async def watch(lab: Lab, seconds: float) -> tuple[list[ProbeVerdict], dict[str, MonitorState]]:
    vantage = lab.vantages["jakarta"]
    verdicts: list[ProbeVerdict] = []
    states: dict[str, MonitorState] = {}

    async def sink(batch: list[ProbeVerdict], changed: list[MonitorState]) -> None:
        verdicts.extend(batch)
        states.update({s.monitor: s for s in changed})

    clock = ScaledClock(T0, speed=10)
    dns = DnsClient([Nameserver(*vantage.dns_address)])
    service = lab.services["chat"]
    async with Prober(dns, Guard(allow_private=True), ca_file=str(lab.ca_file)) as prober:
        self_check = SelfCheck(prober, [
            HttpCheck(vantage.canary_url, expected_status=(204,), timeout=0.4),
            DnsCheck(service.host, timeout=0.4),
        ], clock, quorum=1, ttl=5)
        scheduler = Scheduler(
            [Monitor("chat web", "chat", HttpCheck(service.url, timeout=0.4), interval=2)],
            prober, sink, clock, vantage="jakarta", self_check=self_check,
            thresholds=Thresholds(failures=2, successes=1),
        )
        task = asyncio.create_task(scheduler.run())
        await asyncio.sleep(seconds)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    return verdicts, states


async def test_origin_outage_is_reported_and_a_cut_vantage_is_not() -> None:
    specs = [ServiceSpec(slug="chat", name="Chat", cdn=Personality.CLOUDFLARE)]
    vantages = [Vantage(name="jakarta", region="ID-JK")]
    async with Lab.start(specs, vantages=vantages, connect_timeout=0.2, read_timeout=0.3) as lab:
        await lab.set_origin("chat", OriginMode.HTTP_502)
        outage, outage_states = await watch(lab, 1.2)
        await lab.set_origin("chat", OriginMode.HEALTHY)
        lab.cut_vantage("jakarta")
        cut, cut_states = await watch(lab, 1.5)

    assert len(outage) >= 3
    assert {(v.layer, v.cdn, v.reliable) for v in outage} == {(Layer.ORIGIN, "cloudflare", True)}
    assert outage_states["chat web"].state is MonitorStatus.DOWN

    assert cut, "the cut-off vantage still records what it saw"
    assert {v.layer for v in cut} == {Layer.DNS}
    assert not any(v.reliable for v in cut)
    assert cut_states["chat web"].state is MonitorStatus.UNKNOWN
