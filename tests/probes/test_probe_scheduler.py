from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
from collections import defaultdict
from datetime import UTC, datetime

import pytest
from aiohttp import web
from probe_servers import dns_zone, free_port, serve

from pantau.clock import FrozenClock, ScaledClock
from pantau.probes.debounce import MonitorState, MonitorStatus, Thresholds
from pantau.probes.http import HttpCheck
from pantau.probes.prober import Prober
from pantau.probes.resolve import DnsClient, Nameserver
from pantau.probes.scheduler import Limits, Monitor, Scheduler
from pantau.probes.ssrf import Guard
from pantau.probes.vantage import SelfCheck
from pantau.signals import Layer, ProbeVerdict

T0 = datetime(2025, 1, 23, 12, 0, tzinfo=UTC)
OPEN = Guard(allow_private=True)


class Site:
    """A loopback site that counts how many requests it serves at once."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.active = 0
        self.peak = 0
        self.served = 0
        self.app = web.Application()
        self.app.router.add_get("/ok", self.ok)
        self.app.router.add_get("/fail", self.fail)

    async def ok(self, _: web.Request) -> web.Response:
        self.active += 1
        self.peak = max(self.peak, self.active)
        try:
            await asyncio.sleep(self.delay)
        finally:
            self.active -= 1
        self.served += 1
        return web.Response(text="ok")

    async def fail(self, _: web.Request) -> web.Response:
        return web.Response(status=500, text="broken")


class Sink:
    def __init__(self) -> None:
        self.batches: list[list[ProbeVerdict]] = []
        self.states: dict[str, MonitorState] = {}

    async def __call__(self, verdicts: list[ProbeVerdict], states: list[MonitorState]) -> None:
        self.batches.append(verdicts)
        self.states.update({s.monitor: s for s in states})

    @property
    def verdicts(self) -> list[ProbeVerdict]:
        return [v for batch in self.batches for v in batch]


async def run_for(scheduler: Scheduler, seconds: float) -> None:
    task = asyncio.create_task(scheduler.run())
    await asyncio.sleep(seconds)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def test_intervals_jitter_batches_and_debouncing() -> None:
    site = Site()
    clock = ScaledClock(T0, speed=50)
    names = {f"{n}.pantau.test": "127.0.0.1" for n in "abc"}
    async with serve(site.app) as port:
        with dns_zone(names) as zone:
            dns = DnsClient([Nameserver("127.0.0.1", zone.port)], cache=True)
            monitors = [
                Monitor("a", "svc-a", HttpCheck(f"http://a.pantau.test:{port}/ok"), interval=10),
                Monitor("b", "svc-b", HttpCheck(f"http://b.pantau.test:{port}/ok"), interval=10),
                Monitor("c", "svc-c", HttpCheck(f"http://c.pantau.test:{port}/fail"), interval=10),
            ]
            sink = Sink()
            async with Prober(dns, OPEN) as prober:
                scheduler = Scheduler(monitors, prober, sink, clock, vantage="jakarta",
                                      limits=Limits(jitter=0.1, flush_every=15),
                                      thresholds=Thresholds(failures=3, successes=2),
                                      rng=random.Random(4))
                await run_for(scheduler, 1.6)  # 80 s of scenario time
    times: dict[str, list[datetime]] = defaultdict(list)
    for v in sink.verdicts:
        times[v.monitor].append(v.at)
        assert v.vantage == "jakarta" and v.reliable
        timings = v.evidence["timings"]
        assert isinstance(timings, dict) and {"dns_ms", "total_ms"} <= set(timings)
    for monitor in "abc":
        at = times[monitor]
        assert 6 <= len(at) <= 9, (monitor, len(at))
        gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(at)]
        assert all(8.0 <= g <= 12.5 for g in gaps), gaps
        assert len({round(g, 1) for g in gaps}) > 1  # jitter: not a fixed beat
    # Batched: fewer writes than results.
    assert len(sink.batches) < len(sink.verdicts)
    assert sink.states["a"].state is MonitorStatus.UP
    assert sink.states["c"].state is MonitorStatus.DOWN
    assert {v.layer for v in sink.verdicts if v.monitor == "c"} == {Layer.APP}
    assert scheduler.completed == len(sink.verdicts)  # the drain flushed everything


@pytest.mark.parametrize(("same_host", "limit"), [(True, 2), (False, 3)])
async def test_per_host_and_global_limits(same_host: bool, limit: int) -> None:
    site = Site(delay=0.25)
    names = {f"h{i}.pantau.test": "127.0.0.1" for i in range(8)}
    async with serve(site.app) as port:
        with dns_zone(names) as zone:
            dns = DnsClient([Nameserver("127.0.0.1", zone.port)])
            monitors = [
                Monitor(f"m{i}", "svc",
                        HttpCheck(f"http://{'h0' if same_host else f'h{i}'}.pantau.test:{port}/ok"),
                        interval=0.3)
                for i in range(8)
            ]
            limits = Limits(per_host=2, concurrency=3 if not same_host else 50)
            async with Prober(dns, OPEN) as prober:
                scheduler = Scheduler(monitors, prober, Sink(), ScaledClock(T0, 1),
                                      vantage="v", limits=limits)
                await run_for(scheduler, 0.9)
    assert site.peak == limit
    assert scheduler.skipped > 0  # monitors still waiting are not stacked up


async def test_a_cut_off_vantage_marks_results_unreliable() -> None:
    canary = Site()
    dead = f"http://127.0.0.1:{free_port()}/"
    async with serve(canary.app) as port:
        for connected in (True, False):
            targets = [HttpCheck(f"http://127.0.0.1:{port}/ok" if connected else dead),
                       HttpCheck(dead)]
            sink = Sink()
            clock = ScaledClock(T0, speed=20)
            async with Prober(DnsClient(), OPEN) as prober:
                check = SelfCheck(prober, targets, clock, quorum=1, ttl=30)
                scheduler = Scheduler([Monitor("svc", "svc", HttpCheck(dead), interval=2)],
                                      prober, sink, clock, vantage="v", self_check=check,
                                      thresholds=Thresholds(failures=2))
                await run_for(scheduler, 0.8)
            verdicts = sink.verdicts
            assert len(verdicts) >= 4
            assert {v.layer for v in verdicts} == {Layer.NETWORK}
            assert {v.reliable for v in verdicts} == {connected}
            expected = MonitorStatus.DOWN if connected else MonitorStatus.UNKNOWN
            assert sink.states["svc"].state is expected
            assert check.runs <= 2  # cached for its TTL, not asked per failure


async def test_self_check_cache_follows_the_clock() -> None:
    site = Site()
    async with serve(site.app) as port, Prober(DnsClient(), OPEN) as prober:
        clock = FrozenClock(T0)
        check = SelfCheck(prober, [HttpCheck(f"http://127.0.0.1:{port}/ok")], clock, ttl=30)
        assert await check.reliable(Layer.NETWORK)
        assert await check.reliable(Layer.APP)  # app faults never need the self-check
        clock.advance(29)
        assert await check.connected()
        assert check.runs == 1
        clock.advance(2)
        assert await check.connected()
        assert check.runs == 2
    with pytest.raises(ValueError):
        SelfCheck(prober, [HttpCheck("http://x/")], clock, quorum=2)


async def test_results_survive_a_failing_store() -> None:
    site = Site()
    delivered: list[ProbeVerdict] = []
    calls = 0

    async def flaky(verdicts: list[ProbeVerdict], states: list[MonitorState]) -> None:
        nonlocal calls
        calls += 1
        if calls <= 2:
            raise OSError("database is down")
        delivered.extend(verdicts)

    async with serve(site.app) as port, Prober(DnsClient(), OPEN) as prober:
        monitors = [Monitor(f"m{i}", "svc", HttpCheck(f"http://127.0.0.1:{port}/ok"), interval=5)
                    for i in range(3)]
        scheduler = Scheduler(monitors, prober, flaky, ScaledClock(T0, speed=20), vantage="v",
                              limits=Limits(flush_every=2))
        await run_for(scheduler, 1.0)
    assert scheduler.write_failures == 2
    assert len(delivered) == scheduler.completed >= 6
    assert len({(v.monitor, v.at) for v in delivered}) == len(delivered)
