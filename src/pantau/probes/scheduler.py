"""The probe scheduler: every monitor at its interval, politely, results in batches.

One loop keeps a heap of due times and starts each due check as its own task, so a
slow target never delays the others. Limits: a global concurrency cap, a per-host cap
(politeness: never more than `per_host` checks at once against one host), and at most
one check in flight per monitor (a monitor still running when due again is skipped,
not stacked). Each interval gets random jitter so that monitors started together
drift apart. Results are classified, checked against the vantage self-check,
debounced and handed to `sink` in batches.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import random
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from pantau.clock import Clock
from pantau.probes.classify import classify, to_verdict
from pantau.probes.debounce import MonitorState, Thresholds, advance
from pantau.probes.prober import Check, Prober, check_host
from pantau.probes.vantage import SelfCheck
from pantau.signals import ProbeVerdict

log = logging.getLogger(__name__)
Sink = Callable[[list[ProbeVerdict], list[MonitorState]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Monitor:
    id: str
    service: str
    check: Check
    interval: float = 60.0

    def __post_init__(self) -> None:
        if self.interval <= 0:
            raise ValueError("interval must be positive")


@dataclass(frozen=True, slots=True)
class Limits:
    concurrency: int = 200
    per_host: int = 4
    jitter: float = 0.1
    """Each next run is `interval * (1 ± jitter)`."""
    batch_size: int = 500
    flush_every: float = 2.0
    """Seconds (of the clock) a result may wait in the buffer."""


class Scheduler:
    def __init__(
        self,
        monitors: Sequence[Monitor],
        prober: Prober,
        sink: Sink,
        clock: Clock,
        *,
        vantage: str,
        self_check: SelfCheck | None = None,
        limits: Limits | None = None,
        thresholds: Thresholds | None = None,
        states: Sequence[MonitorState] = (),
        rng: random.Random | None = None,
    ) -> None:
        self.monitors = {m.id: m for m in monitors}
        self.prober = prober
        self.sink = sink
        self.clock = clock
        self.vantage = vantage
        self.self_check = self_check
        self.limits = limits or Limits()
        self.thresholds = thresholds or Thresholds()
        self.states = {s.monitor: s for s in states if s.vantage == vantage}
        self._rng = rng or random.Random()
        self._global = asyncio.Semaphore(self.limits.concurrency)
        self._hosts: defaultdict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(self.limits.per_host)
        )
        self._in_flight: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._verdicts: list[ProbeVerdict] = []
        self._changed: dict[str, MonitorState] = {}
        self._oldest: datetime | None = None
        self._flushing: asyncio.Lock = asyncio.Lock()
        self.completed = 0
        self.skipped = 0
        self.write_failures = 0

    async def run(self) -> None:
        """Loop until cancelled; on cancellation, finish running checks and flush."""
        start = self.clock.now().timestamp()
        due = [
            (start + self._rng.uniform(0, m.interval), m.id) for m in self.monitors.values()
        ]
        heapq.heapify(due)
        try:
            while due:
                at, monitor_id = due[0]
                wait = at - self.clock.now().timestamp()
                if wait > 0:
                    if self._verdicts:
                        wait = min(wait, self._flush_wait())
                    if wait > 0:
                        await self.clock.sleep(wait)
                    await self._maybe_flush()
                    continue
                heapq.heappop(due)
                monitor = self.monitors[monitor_id]
                self._start(monitor)
                spread = monitor.interval * self.limits.jitter
                heapq.heappush(
                    due, (at + monitor.interval + self._rng.uniform(-spread, spread), monitor_id)
                )
        finally:
            await self.drain()

    async def drain(self) -> None:
        """Wait for running checks, then write what is buffered."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.flush()

    def _start(self, monitor: Monitor) -> None:
        if monitor.id in self._in_flight:
            self.skipped += 1
            return
        self._in_flight.add(monitor.id)
        task = asyncio.get_running_loop().create_task(self._check(monitor))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _check(self, monitor: Monitor) -> None:
        try:
            async with self._global, self._hosts[check_host(monitor.check)]:
                at = self.clock.now()
                obs = await self.prober.run(monitor.check)
            diagnosis = classify(obs)
            reliable = True
            if not diagnosis.ok and self.self_check is not None:
                reliable = await self.self_check.reliable(diagnosis.layer)
            verdict = to_verdict(
                obs, diagnosis, service=monitor.service, monitor=monitor.id,
                vantage=self.vantage, at=at, reliable=reliable,
            )
            state = advance(self.states.get(monitor.id), verdict, self.thresholds)
            self.states[monitor.id] = state
            self._changed[monitor.id] = state
            self._verdicts.append(verdict)
            self._oldest = self._oldest or self.clock.now()
            self.completed += 1
        except Exception:  # a bug must not silently stop one monitor's checks
            log.exception("probe of %s failed", monitor.id)
        finally:
            self._in_flight.discard(monitor.id)
        if len(self._verdicts) >= self.limits.batch_size:
            await self.flush()

    def _flush_wait(self) -> float:
        if self._oldest is None:
            return self.limits.flush_every
        age = (self.clock.now() - self._oldest).total_seconds()
        return max(0.0, self.limits.flush_every - age)

    async def _maybe_flush(self) -> None:
        if self._verdicts and self._flush_wait() <= 0:
            await self.flush()

    async def flush(self) -> None:
        """Hand buffered results to the sink; if it fails, keep them for the next try."""
        async with self._flushing:
            if not self._verdicts:
                return
            verdicts, self._verdicts = self._verdicts, []
            changed, self._changed = self._changed, {}
            self._oldest = None
            try:
                await self.sink(verdicts, list(changed.values()))
            except Exception:  # the store is down or busy: probing goes on regardless
                log.warning("could not write %d probe results; will retry", len(verdicts),
                            exc_info=True)
                # Put them back in front of newer ones, keeping the buffer bounded: when
                # the store stays away, the oldest results are the ones given up.
                keep = self.limits.batch_size * 10
                self._verdicts = (verdicts + self._verdicts)[-keep:]
                self._changed = {**changed, **self._changed}
                self._oldest = self.clock.now()
                self.write_failures += 1

