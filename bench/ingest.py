"""Ingest benchmark: durable crowd reports per second on the real server, on loopback.

Two servers run one after the other on the same software (uvicorn, one process,
the same options as `pantau serve`): a bare ASGI handler that reads the body and
answers 202 (the ceiling), and pantau itself on SQLite with durable group-commit
writes, trusted-proxy `X-Forwarded-For` (each request a different reporter on a
different /24, so rate limits and dedupe run but do not refuse), default limits.

For each: a closed loop at full speed (accepted reports/s, latency p50/p99); for
pantau also an open loop at half that rate (p99 must stay < 50 ms). Finally the
reports in the database are counted against those acknowledged with 202.

Usage: python bench/ingest.py [--seconds 10] [--concurrency 64]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import numpy as np

BODY = json.dumps({"category": "website", "text": "502 Bad Gateway"}).encode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(kind: str, port: int, database: str) -> None:
    """Run one server in this process (the child side of the benchmark)."""
    import uvicorn

    from pantau.catalog import Catalog
    from pantau.runtime import Runtime
    from pantau.settings import load_settings
    from pantau.store import Store
    from pantau.web.app import create_app

    if kind == "bare":

        async def app(scope, receive, send):  # type: ignore[no-untyped-def]
            if scope["type"] != "http":
                return
            more = True
            while more:
                message = await receive()
                more = message.get("more_body", False)
            await send({"type": "http.response.start", "status": 202,
                        "headers": [(b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": b'{"id":"0"}'})

        target = app
    else:
        settings = load_settings(database=database, trusted_proxies="127.0.0.1/32")
        store = Store(settings.database, max_queue=settings.report_queue_size)
        store.migrate()
        runtime = Runtime(settings=settings, store=store, catalog=Catalog.default())
        target = create_app(runtime)
    config = uvicorn.Config(target, host="127.0.0.1", port=port, log_level="warning",
                            lifespan="on" if kind != "bare" else "off")
    uvicorn.Server(config).run()


@dataclass
class Result:
    ok: int = 0
    refused: dict[int, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def line(self, name: str) -> str:
        lat = np.array(self.latencies) * 1000
        p50, p99 = (np.percentile(lat, 50), np.percentile(lat, 99)) if len(lat) else (0, 0)
        other = f" refused {self.refused}" if self.refused else ""
        return (f"{name:34s} {self.ok / self.seconds:8.0f}/s  p50 {p50:6.1f} ms  "
                f"p99 {p99:6.1f} ms  n={self.ok}{other}")


class Load:
    def __init__(self, url: str) -> None:
        self.url = url
        self.sent = 0

    def headers(self) -> dict[str, str]:
        # A new reporter on a new /24 for every request, through the trusted proxy.
        i = self.sent
        self.sent += 1
        return {"content-type": "application/json",
                "x-forwarded-for": f"10.{(i >> 8) & 255}.{i & 255}.{1 + (i >> 16) % 250}"}

    async def one(self, http: aiohttp.ClientSession, result: Result) -> None:
        started = time.perf_counter()
        async with http.post(self.url, data=BODY, headers=self.headers()) as r:
            payload = await r.read()
        if r.status == 202:
            result.ok += 1
            result.latencies.append(time.perf_counter() - started)
            result.ids.append(json.loads(payload)["id"])
        else:
            result.refused[r.status] = result.refused.get(r.status, 0) + 1

    async def closed(self, seconds: float, concurrency: int) -> Result:
        result = Result()
        end = time.perf_counter() + seconds
        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(connector=connector) as http:

            async def worker() -> None:
                while time.perf_counter() < end:
                    await self.one(http, result)

            started = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            result.seconds = time.perf_counter() - started
        return result

    async def open(self, seconds: float, rate: float, concurrency: int) -> Result:
        """Requests sent on a fixed schedule, whatever the answers' speed."""
        result = Result()
        connector = aiohttp.TCPConnector(limit=concurrency * 4)
        async with aiohttp.ClientSession(connector=connector) as http:
            started = time.perf_counter()
            tasks = []
            n = int(seconds * rate)
            for k in range(n):
                delay = started + k / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(self.one(http, result)))
            await asyncio.gather(*tasks)
            result.seconds = time.perf_counter() - started
        return result


def start(kind: str, database: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, __file__, "--serve", kind, str(port), database],
                            env={**os.environ, "PANTAU_SECRET_KEY": "bench"})
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc, url
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"{kind} server did not start")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    proc.wait(timeout=30)


async def main_async(seconds: float, concurrency: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        database = f"sqlite:///{Path(tmp) / 'bench.db'}"
        print(f"ingest benchmark: {os.cpu_count()} CPUs (shared with the load generator), "
              f"{seconds:g} s per run, {concurrency} connections, uvicorn, one process")
        bare_proc, bare_url = start("bare", database)
        try:
            bare_load = Load(f"{bare_url}/api/v1/services/chatgpt/reports")
            await bare_load.closed(1.0, concurrency)  # warm-up
            bare = await bare_load.closed(seconds, concurrency)
        finally:
            stop(bare_proc)
        proc, url = start("pantau", database)
        acked: list[str] = []
        try:
            load = Load(f"{url}/api/v1/services/chatgpt/reports")
            warm = await load.closed(1.0, concurrency)
            full = await load.closed(seconds, concurrency)
            half_rate = full.ok / full.seconds / 2
            half = await load.open(seconds, half_rate, concurrency)
            acked = warm.ids + full.ids + half.ids
        finally:
            stop(proc)
        # The same paced load on the bare handler: what the load generator and the
        # machine alone add to the latency at that rate.
        bare_proc, bare_url = start("bare", database)
        try:
            bare_half = await Load(f"{bare_url}/r").open(seconds, half_rate, concurrency)
        finally:
            stop(bare_proc)
        from sqlalchemy import create_engine, func, select

        from pantau.store.schema.reports import reports

        engine = create_engine(database)
        with engine.connect() as conn:
            stored = set(conn.scalars(select(reports.c.id)))
            total = conn.scalar(select(func.count()).select_from(reports))
        engine.dispose()
        print(bare.line("bare ASGI handler (ceiling)"))
        print(full.line("pantau, durable (full speed)"))
        print(half.line("pantau, durable (half that rate)"))
        print(bare_half.line("bare ASGI handler (same half rate)"))
        ratio = (full.ok / full.seconds) / (bare.ok / bare.seconds)
        lost = len(set(acked) - stored)
        print(f"pantau / bare: {ratio:.0%}   acknowledged {len(acked)}, in the database "
              f"{total}, lost {lost}")
        return 1 if lost else 0


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        serve(sys.argv[2], int(sys.argv[3]), sys.argv[4])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    return asyncio.run(main_async(args.seconds, args.concurrency))


if __name__ == "__main__":
    sys.exit(main())
