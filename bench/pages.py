"""How fast a warm server answers the service page (target: p95 under 20 ms).

Builds a SQLite store holding 24 hours of fused minutes for ChatGPT (the last hour an
origin outage behind Cloudflare, with probe boxes, crowd breakdowns and an open
incident), serves it with uvicorn on loopback, warms up, then times sequential GETs
of /services/chatgpt (and the status API and home page for comparison) over HTTP:
first with every page rendered for its request, then as served, pages kept for a few
seconds (PANTAU_PAGE_CACHE_SECONDS). /healthz, which reads the database and renders
nothing, shows what the client and the round trip cost.

Then live pages: `--streams` SSE streams of the service's status open at once (as
pages left open during an outage), a new minute stored, and the seconds until the
last stream has heard of it, with every stream loading its own view (as before) and
with the streams sharing one loading (`LiveHub.shared_view`). Clients and server share
this process and its loop: the figures compare the two, they do not size a server.

Usage: python bench/pages.py [--requests 500] [--streams 300]
Exit status 1 when the service page's p95 is 20 ms or more.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from pantau.catalog import Catalog
from pantau.clock import FrozenClock
from pantau.incidents.engine import FusionEngine, ServiceInput
from pantau.runtime import Runtime
from pantau.settings import Settings, load_settings
from pantau.signals import CrowdMinute, CrowdState, Layer, ProbeVerdict
from pantau.store import Store
from pantau.web.app import create_app
from pantau.web.live import LiveHub

TARGET_P95_MS = 20.0
VANTAGES = ("jakarta", "surabaya", "denpasar", "singapore")
NOW = datetime(2025, 1, 23, 12, 30, tzinfo=UTC)


def _inputs(at: datetime, bad: bool) -> list[ServiceInput]:
    probes = [ProbeVerdict(service="chatgpt", monitor=f"chatgpt {kind}", vantage=v, at=at,
                           ok=not bad, layer=Layer.ORIGIN if bad else Layer.NONE,
                           cause="cloudflare_502" if bad else "ok", cdn="cloudflare",
                           status=502 if bad else 200, total_ms=80.0)
              for v in VANTAGES for kind in ("web", "api")]
    reporters = 900 if bad else 10
    crowd = CrowdMinute(service="chatgpt", minute=at, reporters=reporters,
                        networks=reporters, expected=10.0, score=1.0 if bad else 0.0,
                        state=CrowdState.DETECTED if bad else CrowdState.NORMAL,
                        categories={"website": reporters // 2, "app": reporters // 3,
                                    "login": reporters - reporters // 2 - reporters // 3},
                        regions={"ID-JK": reporters // 2, "ID-JI": reporters // 2},
                        texts={"502 Bad Gateway": reporters // 4, "error 502": reporters // 8})
    return [ServiceInput("chatgpt", "ChatGPT", "cloudflare", crowd, probes, None)]


async def _fuse(store: Store, engine: FusionEngine, at: datetime) -> None:
    m = engine.step(at, _inputs(at, at >= NOW - timedelta(hours=1)))
    await store.save_fusion(at, list(m.assessments.values()), dict(m.incidents),
                            m.changed, m.events)


async def _populate(store: Store) -> FusionEngine:
    engine = FusionEngine()
    at = NOW - timedelta(hours=24)
    while at <= NOW:
        await _fuse(store, engine, at)
        at += timedelta(minutes=1)
    return engine


def _ms(samples: list[float]) -> tuple[float, float, float]:
    ordered = sorted(samples)
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    p99 = ordered[int(0.99 * (len(ordered) - 1))]
    return statistics.median(ordered), p95, p99


@contextlib.asynccontextmanager
async def _serving(app: FastAPI) -> AsyncIterator[int]:
    """`app` served by uvicorn on loopback, in this loop; yields the port."""
    sock = socket.socket()
    # Accepted connections inherit it: without, a response written in two parts
    # waits for the client's delayed ACK (40 ms a request).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:  # noqa: ASYNC110 - uvicorn has no started event
        await asyncio.sleep(0.01)
    try:
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        await task


async def _serve_and_time(runtime: Runtime, requests: int) -> bool:
    """Time each page on a server of `runtime`'s app; True if the service page is too slow."""
    failed = False
    async with _serving(create_app(runtime)) as port, httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}") as client:
        for path in ("/healthz", "/services/chatgpt?lang=id",
                     "/api/v1/services/chatgpt/status", "/api/v1/services/chatgpt/crowd",
                     "/api/v1/services/chatgpt/official", "/api/v1/incidents", "/?lang=en"):
            for _ in range(50):
                (await client.get(path)).raise_for_status()
            samples = []
            size = 0
            for _ in range(requests):
                started = time.perf_counter()
                answer = await client.get(path)
                samples.append((time.perf_counter() - started) * 1000)
                answer.raise_for_status()
                size = len(answer.content)
            p50, p95, p99 = _ms(samples)
            print(f"  {path:40} {requests} requests  p50 {p50:6.2f} ms  p95 {p95:6.2f} ms  "
                  f"p99 {p99:6.2f} ms  {size / 1024:5.1f} KB")
            if path.startswith("/services/") and p95 >= TARGET_P95_MS:
                failed = True
    return failed


class _EachLoadsItsOwn(LiveHub):
    """The hub as it was: every stream loads its own view (the baseline)."""

    async def shared_view(
        self, key: Hashable, load: Callable[[], Awaitable[dict[str, Any]]]
    ) -> dict[str, Any]:
        return await load()


async def _live(runtime: Runtime, engine: FusionEngine, at: datetime, streams: int,
                hub: LiveHub) -> float:
    """Seconds from a new fused minute being stored until each of `streams` open live
    pages (SSE streams of the service's status) has heard of it."""
    app = create_app(runtime)
    app.state.live_hub = hub
    heard: list[float] = []
    ready = 0
    all_ready = asyncio.Event()

    async def follow(client: httpx.AsyncClient) -> None:
        nonlocal ready
        seen = 0
        async with client.stream("GET", "/api/v1/services/chatgpt/events?tz=Asia/Jakarta") as r:
            async for line in r.aiter_lines():
                if line.startswith("event: status"):
                    seen += 1
                    if seen == 1:
                        ready += 1
                        if ready == streams:
                            all_ready.set()
                    else:
                        heard.append(time.perf_counter())
                        return

    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    async with _serving(app) as port, httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=120) as client:
        followers = [asyncio.create_task(follow(client)) for _ in range(streams)]
        await asyncio.wait_for(all_ready.wait(), 120)
        stored = time.perf_counter()
        await _fuse(runtime.store, engine, at)
        await asyncio.wait_for(asyncio.gather(*followers), 120)
    return max(heard) - stored


async def main(requests: int, streams: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        store = Store(url)
        store.migrate()
        await store.start()
        engine = await _populate(store)
        failed = False
        # Rendered for every request, then as served (kept for a few seconds).
        for seconds in (0.0, Settings.model_fields["page_cache_seconds"].default):
            print(f"pages kept for {seconds:g} s (PANTAU_PAGE_CACHE_SECONDS):")
            settings = load_settings(database=url, page_cache_seconds=seconds)
            runtime = Runtime(settings=settings, store=store, catalog=Catalog.default(),
                              clock=FrozenClock(NOW))
            failed |= await _serve_and_time(runtime, requests)
        print(f"{streams} live pages (SSE streams of /api/v1/services/chatgpt/events, one zone),"
              " then a new minute is stored: seconds until the last has heard of it "
              "(the hub polls every 50 ms):")
        at = NOW
        for name, hub_kind in (("each stream loads its own view (before)", _EachLoadsItsOwn),
                               ("the streams share one loading", LiveHub)):
            at += timedelta(minutes=1)
            runtime = Runtime(settings=load_settings(database=url), store=store,
                              catalog=Catalog.default(), clock=FrozenClock(NOW))
            took = await _live(runtime, engine, at, streams, hub_kind(store, interval=0.05))
            print(f"  {name:40} {took:6.2f} s")
        await store.close()
    if failed:
        print(f"service page p95 is over the {TARGET_P95_MS:.0f} ms target", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--streams", type=int, default=300, help="live pages open at once")
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.requests, args.streams)))
