"""A scenario run moves the lab through its timeline and posts its crowd over HTTP."""

from __future__ import annotations

import socket
from collections import Counter
from datetime import timedelta
from typing import Any

from aiohttp import web

from pantau.clock import FrozenClock, ScaledClock
from pantau.lab import Lab, OriginMode, generate_reports, load_scenario, state_at
from pantau.lab.runner import run_scenario, timeline_offsets
from pantau.lab.sender import send_reports


class Receiver:
    """A loopback HTTP server recording what a pantau server would receive."""

    def __init__(self, answer: int = 202) -> None:
        self.seen: list[dict[str, Any]] = []
        self.answer = answer
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.seen.append({
            "slug": request.match_info["slug"],
            "client": request.headers["X-Pantau-Client"],
            "ip": request.headers["X-Forwarded-For"],
            **await request.json(),
        })
        return web.json_response({"ok": True}, status=self.answer)

    async def __aenter__(self) -> Receiver:
        app = web.Application()
        app.router.add_post("/api/v1/services/{slug}/reports", self.handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.runner is not None
        await self.runner.cleanup()


async def test_run_posts_the_same_stream_and_ends_in_the_final_state() -> None:
    scenario = load_scenario("chatgpt-2025-01-23")
    async with Receiver() as receiver, Lab.start(scenario) as lab:
        # Two scenario hours in about a second, starting now that the lab is up.
        clock = ScaledClock(scenario.start, 7200)
        stats = await run_scenario(scenario, lab, clock, receiver.url)
        assert lab.state.origin == state_at(scenario, scenario.duration).origin
    expected = list(generate_reports(scenario))
    assert stats is not None and stats.sent == len(expected) == stats.accepted
    assert stats.errors == 0
    got = Counter((r["slug"], r["client"], r["ip"], r["category"], r["region"], r.get("text", ""))
                  for r in receiver.seen)
    assert got == Counter((r.service, r.client_id, r.ip, r.category, r.region, r.text)
                          for r in expected)


async def test_timeline_passes_through_every_state() -> None:
    scenario = load_scenario("chatgpt-2025-01-23")
    clock = FrozenClock(scenario.start)
    seen: list[tuple[timedelta, OriginMode]] = []
    async with Lab.start(scenario, clock=clock) as lab:
        await run_scenario(
            scenario, lab, clock,
            on_event=lambda e: seen.append((e.at, lab.state.origin["chatgpt"])),
        )
    assert (timedelta(minutes=33), OriginMode.HTTP_502) in seen
    assert (timedelta(minutes=83), OriginMode.HEALTHY) in seen
    assert timeline_offsets(scenario)[0] == timedelta(0)


async def test_sender_counts_refusals_and_dead_servers() -> None:
    scenario = load_scenario("chatgpt-2025-01-23")
    reports = list(generate_reports(scenario, end=timedelta(minutes=40)))
    clock = FrozenClock(scenario.start + timedelta(hours=1))
    async with Receiver(answer=429) as receiver:
        stats = await send_reports(reports, receiver.url, clock)
    assert stats.statuses == {429: len(reports)} and stats.accepted == 0
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    stats = await send_reports(reports[:5], dead, clock)
    assert stats.errors == 5
