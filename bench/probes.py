"""Probe throughput and cost on loopback: `python bench/probes.py [--seconds S]`.

Measures, in one run and against the same target server (a separate process, so its
CPU is not charged to the client):

1. full checks/s: the probe as the scheduler runs it (resolve + SSRF guard, a fresh
   connection, phase timings, body prefix, classification), N concurrent workers;
2. the bare loop: the same client library (aiohttp) doing plain GETs on fresh
   connections, no timings, no classification (and, for reference, with keep-alive);
3. the same over HTTPS (TLS handshake on every check);
4. 10,000 monitors at a 60 s interval through the real scheduler and a SQLite store
   in real time: CPU share of one core and memory.

The machine is shared: the figures depend on what else runs; the CPU columns are this
process's own CPU time, which is less sensitive to neighbours than the rates.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import trustme

from pantau.clock import SystemClock
from pantau.probes.classify import classify
from pantau.probes.http import HttpCheck, HttpProber
from pantau.probes.prober import Prober
from pantau.probes.resolve import DnsClient
from pantau.probes.scheduler import Limits, Monitor, Scheduler
from pantau.probes.ssrf import Guard
from pantau.store import Store

BODY = b"<html><body><h1>pantau bench target</h1><p>all good</p></body></html>"
RESPONSE = (
    b"HTTP/1.1 200 OK\r\nServer: cloudflare\r\ncf-ray: 8f1e2d3c4b5a6978-CGK\r\n"
    b"cf-cache-status: DYNAMIC\r\nContent-Type: text/html\r\nConnection: close\r\n"
    b"Content-Length: " + str(len(BODY)).encode() + b"\r\n\r\n" + BODY
)


# --- the target: a minimal HTTP server in its own process --------------------------------


class _Target(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if b"\r\n\r\n" in self.buffer:
            keep = b"connection: close" not in self.buffer.lower()
            reply = RESPONSE if not keep else RESPONSE.replace(b"close", b"keep-alive")
            self.transport.write(reply)  # type: ignore[attr-defined]
            self.buffer = b""
            if not keep:
                self.transport.close()


def serve_target(cert_dir: str) -> None:
    """Serve until killed; the two ports (HTTP, HTTPS) go to stdout as the first line."""

    async def main() -> None:
        loop = asyncio.get_running_loop()
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(f"{cert_dir}/cert.pem")
        plain = await loop.create_server(_Target, "127.0.0.1", 0, backlog=1024)
        secure = await loop.create_server(_Target, "127.0.0.1", 0, backlog=1024, ssl=tls)
        ports = [s.sockets[0].getsockname()[1] for s in (plain, secure)]
        print(ports[0], ports[1], flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


# --- measurement helpers -----------------------------------------------------------------


async def sustained(
    work: Callable[[], Awaitable[None]], seconds: float, workers: int
) -> dict[str, float]:
    done = 0
    stop_at = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < stop_at:
            await work()
            done += 1

    cpu0, wall0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return {"rate": done / wall, "cpu_ms_per_1000": cpu / done * 1e6, "n": done}


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def full_checks(url: str, ca: str | None, seconds: float, workers: int) -> dict[str, float]:
    async with HttpProber(DnsClient(), Guard(allow_private=True), ca_file=ca) as prober:
        check = HttpCheck(url, expected_status=(200,))

        async def one() -> None:
            d = classify(await prober.check(check))
            assert d.ok and d.cdn == "cloudflare", d

        await one()  # warm up
        return await sustained(one, seconds, workers)


async def bare_loop(
    url: str, ca: str | None, seconds: float, workers: int, keep_alive: bool
) -> dict[str, float]:
    connector = aiohttp.TCPConnector(
        force_close=not keep_alive, limit=0, ssl=ssl.create_default_context(cafile=ca)
    )
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one() -> None:
            async with session.get(url) as resp:
                await resp.read()

        await one()
        return await sustained(one, seconds, workers)


async def ten_thousand(port: int, seconds: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{tmp}/bench.db")
        store.migrate()
        await store.start()
        rss0 = rss_mib()
        monitors = [
            Monitor(f"m{i}", f"svc{i % 500}", HttpCheck(f"http://127.0.0.1:{port}/m/{i}"), 60.0)
            for i in range(10_000)
        ]
        async with Prober(DnsClient(), Guard(allow_private=True)) as prober:
            scheduler = Scheduler(
                monitors,
                prober,
                store.probe_record,
                SystemClock(),
                vantage="bench",
                limits=Limits(per_host=50),
            )
            task = asyncio.create_task(scheduler.run())
            await asyncio.sleep(2)  # let the start-up transients pass
            cpu0, wall0, n0 = time.process_time(), time.perf_counter(), scheduler.completed
            await asyncio.sleep(seconds)
            cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
            checks = scheduler.completed - n0
            rss1 = rss_mib()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        written = len(await store.probe_verdicts(datetime(2000, 1, 1, tzinfo=UTC), limit=1_000_000))
        await store.close()
    return {
        "checks_per_s": checks / wall,
        "cpu_share": cpu / wall,
        "rss_mib": rss1,
        "rss_growth_mib": rss1 - rss0,
        "written": written,
        "checks": checks,
    }


async def paired(
    full: Callable[[], Awaitable[dict[str, float]]],
    bare: Callable[[], Awaitable[dict[str, float]]],
    rounds: int,
) -> tuple[dict[str, float], dict[str, float]]:
    """Alternate full and bare runs and keep the median of each: neighbours on the shared
    CPU then hit both sides alike instead of skewing the ratio."""
    fulls, bares = [], []
    for _ in range(rounds):
        fulls.append(await full())
        bares.append(await bare())

    def median(runs: list[dict[str, float]]) -> dict[str, float]:
        ordered = sorted(runs, key=lambda r: r["rate"])
        middle = dict(ordered[len(ordered) // 2])
        middle["n"] = sum(r["n"] for r in runs)
        middle["cpu_ms_per_1000"] = statistics.median(r["cpu_ms_per_1000"] for r in runs)
        return middle

    return median(fulls), median(bares)


async def bench(
    seconds: float, rounds: int, workers: int, port: int, tls_port: int, ca: str
) -> None:
    print(f"pantau probe benchmark: {os.cpu_count()} CPUs (shared), {workers} workers, "
          f"{rounds} alternating rounds of {seconds:g} s per measurement, loopback target "
          "in a separate process\n")
    http = f"http://127.0.0.1:{port}/"
    # "localhost" goes through the system resolver (/etc/hosts) on every full check,
    # like a real name would; the certificate is issued for it by a throwaway CA.
    https = f"https://localhost:{tls_port}/"
    full, bare = await paired(lambda: full_checks(http, None, seconds, workers),
                              lambda: bare_loop(http, None, seconds, workers, False), rounds)
    alive = await bare_loop(http, None, seconds, workers, keep_alive=True)
    tls_full, tls_bare = await paired(lambda: full_checks(https, ca, seconds, workers),
                                      lambda: bare_loop(https, ca, seconds, workers, False),
                                      rounds)
    rows = [("HTTP  full check (fresh conn)", full), ("HTTP  bare GET (fresh conn)", bare),
            ("HTTP  bare GET (keep-alive)", alive),
            ("HTTPS full check (fresh conn)", tls_full),
            ("HTTPS bare GET (fresh conn)", tls_bare)]
    print(f"{'':32}{'checks/s':>10}{'CPU ms/1000':>13}{'n':>8}")
    for name, r in rows:
        print(f"{name:32}{r['rate']:>10.0f}{r['cpu_ms_per_1000']:>13.0f}{r['n']:>8.0f}")
    print(f"\nfull / bare (same connection policy): HTTP {full['rate'] / bare['rate']:.0%}, "
          f"HTTPS {tls_full['rate'] / tls_bare['rate']:.0%}")
    print(f"by CPU per check (less sensitive to neighbours): "
          f"HTTP {bare['cpu_ms_per_1000'] / full['cpu_ms_per_1000']:.0%}, "
          f"HTTPS {tls_bare['cpu_ms_per_1000'] / tls_full['cpu_ms_per_1000']:.0%}")
    tk = await ten_thousand(port, max(seconds * 4, 10))
    print(
        f"\n10,000 monitors, 60 s interval, real scheduler + SQLite store "
        f"({tk['checks']:.0f} checks in the window):"
    )
    print(
        f"  {tk['checks_per_s']:.0f} checks/s, CPU {tk['cpu_share']:.1%} of one core, "
        f"RSS {tk['rss_mib']:.0f} MiB (+{tk['rss_growth_mib']:.0f} MiB for the monitors), "
        f"{tk['written']} results written"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=64)
    parser.add_argument("--serve-target", metavar="CERT_DIR", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_target:
        serve_target(args.serve_target)
        return
    with tempfile.TemporaryDirectory() as tmp:
        ca = trustme.CA()
        ca.cert_pem.write_to_path(f"{tmp}/ca.pem")
        leaf = ca.issue_cert("localhost", "127.0.0.1")
        leaf.private_key_and_cert_chain_pem.write_to_path(f"{tmp}/cert.pem")
        target = subprocess.Popen(
            [sys.executable, __file__, "--serve-target", tmp], stdout=subprocess.PIPE, text=True
        )
        try:
            assert target.stdout is not None
            port, tls_port = map(int, target.stdout.readline().split())
            asyncio.run(bench(args.seconds, args.rounds, args.workers, port, tls_port,
                              f"{tmp}/ca.pem"))
        finally:
            target.terminate()
            target.wait(5)


if __name__ == "__main__":
    main()
