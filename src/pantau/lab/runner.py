"""Run a scenario: move the lab through its timeline and send its crowd, on a clock.

`run_scenario(scenario, lab, clock, server_url)` applies every event when `clock`
reaches it (`Lab.apply`) and, if `server_url` is given, posts the simulated crowd
to that pantau server at the same pace. With `ScaledClock(scenario.start, speed)`
a two-hour incident takes two minutes at speed 60. `timeline_offsets` is the
pure part: the offsets at which the lab's state changes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta

from pantau.clock import Clock
from pantau.lab.crowd import generate_reports
from pantau.lab.lab import Lab
from pantau.lab.scenario import Event, Scenario
from pantau.lab.sender import SendStats, send_reports

OnEvent = Callable[[Event], None]


def timeline_offsets(scenario: Scenario) -> list[timedelta]:
    """Distinct event offsets in order, always starting with 0 (the initial state)."""
    return sorted({timedelta(0), *(event.at for event in scenario.timeline)})


async def follow_timeline(
    scenario: Scenario,
    apply: Callable[[timedelta], Awaitable[object]],
    clock: Clock,
    on_event: OnEvent | None = None,
) -> None:
    """Call `apply(offset)` at every offset where the timeline changes something."""
    for offset in timeline_offsets(scenario):
        delay = (scenario.at(offset) - clock.now()).total_seconds()
        if delay > 0:
            await clock.sleep(delay)
        await apply(offset)
        if on_event is not None:
            for event in scenario.events():
                if event.at == offset:
                    on_event(event)


async def run_scenario(
    scenario: Scenario,
    lab: Lab,
    clock: Clock,
    server_url: str | None = None,
    seed: int | None = None,
    on_event: OnEvent | None = None,
) -> SendStats | None:
    """Play `scenario` in `lab` (and its crowd against `server_url`) until it ends."""

    async def apply(offset: timedelta) -> None:
        await lab.apply(scenario, offset)

    timeline = follow_timeline(scenario, apply, clock, on_event)
    if server_url is None:
        await timeline
        return None
    offset = max(timedelta(0), clock.now() - scenario.start)
    reports = generate_reports(scenario, seed, start=offset)
    async with asyncio.TaskGroup() as group:
        group.create_task(timeline)
        crowd = group.create_task(send_reports(reports, server_url, clock))
    return crowd.result()
