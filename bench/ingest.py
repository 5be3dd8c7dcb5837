"""Ingest benchmark: durable crowd reports per second on the real server, on loopback.

Two servers run side by side through the very function `pantau serve` uses
(`pantau.cli.serve.run_server`: uvicorn, one process or `--workers` processes under
its supervisor, the same loop, HTTP parser, logging and GC settings): a bare ASGI
handler that reads the body and answers 202 (`_bare.py`, the ceiling), and pantau
itself on SQLite with durable group-commit writes, trusted-proxy `X-Forwarded-For`
(each request a different reporter on a different /24, so rate limits and dedupe run
but do not refuse) and default limits.

The load generator is kept lean so that it does not starve the servers of the two
shared cores: keep-alive connections on uvloop, requests prepared as bytes,
responses parsed by httptools (the parser uvicorn itself uses). Figures:

- full speed: a closed loop (each connection sends its next report when the
  last is answered); rate = reports acknowledged with 202 per second. Bare and
  pantau alternate for `--rounds` rounds, since other work on the machine
  comes and goes; the medians are compared.
- half rate: an open loop paced at half the bare handler's median rate,
  whatever the answers' speed; each latency counts from the moment the report
  was due (time spent waiting for a free connection included), and a refusal
  counts against the run. Also alternated, bare and pantau.
- for reading those: pantau paced at half its own median full speed (not a target).
- server CPU: the server's processes', per report acknowledged, and (loop) that of their
  main threads alone, which run the event loop: uvicorn and the ingest path up to the
  group commit. The database writer works in a thread of its own; whichever of the
  two is busiest bounds the rate.
- the service page: GET /services/chatgpt on a connection of its own, 20 a second,
  with no reports, while reports come at half pantau's own rate, and while they come
  as fast as it takes them (not a target: what a visitor waits during a surge).
- lost: reports acknowledged with 202 that are not in the database afterwards.

With `--database postgresql://…` pantau writes to a fresh database made on that
server for the run (and dropped after it); with `--redis redis://…` the limits and the
dedupe are shared through Redis, as when several servers run; `--workers N` (with
`--redis`) runs both servers as N processes, as `pantau serve --workers N` does. Both
servers then compete with PostgreSQL and Redis for the same cores: the figures are for
comparing set-ups on one machine, not for sizing one.

Usage: python bench/ingest.py [--seconds 5] [--rounds 3] [--concurrency 64]
                              [--database postgresql://…] [--redis redis://…]
                              [--workers 1]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httptools
import numpy as np
import uvloop

from _service_page import PAGE_INTERVAL, page_line, with_page

PATH = b"/api/v1/services/chatgpt/reports"
BODY = json.dumps({"category": "website", "text": "502 Bad Gateway"}).encode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(kind: str, port: int, database: str, redis: str | None, workers: int) -> None:
    """Run one server in this process (the child side of the benchmark), with `workers`
    worker processes under uvicorn's supervisor when more than one."""
    from pantau.cli.serve import build_runtime, run_server, serve_runtime
    from pantau.settings import load_settings

    if kind == "bare":
        run_server("_bare:make", "127.0.0.1", port, workers)
        return
    # As `pantau serve` passes its settings to its workers: through the environment.
    os.environ.update({
        "PANTAU_DATABASE": database, "PANTAU_PORT": str(port), "PANTAU_WORKERS": str(workers),
        "PANTAU_TRUSTED_PROXIES": "127.0.0.1/32", "PANTAU_MONITOR": "false",
        **({"PANTAU_REDIS": redis} if redis else {}),
    })
    serve_runtime(build_runtime(load_settings()))


@dataclass
class Result:
    ok: int = 0
    refused: dict[int, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    seconds: float = 0.0
    cpu: float = 0.0  # the server process's CPU seconds (all threads) during the run
    main_cpu: float = 0.0  # of which its main thread's (the event loop's)

    @property
    def rate(self) -> float:
        return self.ok / self.seconds

    def p(self, q: float) -> float:
        return float(np.percentile(np.array(self.latencies) * 1000, q)) if self.latencies else 0.0

    def line(self, name: str) -> str:
        other = f"  refused {self.refused}" if self.refused else ""
        cpu = (f"  server CPU {self.cpu / self.ok * 1e6:4.0f} us/report "
               f"(loop {self.main_cpu / self.ok * 1e6:3.0f})" if self.ok else "")
        return (f"  {name:8s} {self.rate:7.0f}/s  p50 {self.p(50):7.1f} ms  "
                f"p99 {self.p(99):7.1f} ms  n={self.ok}{cpu}{other}")


class Client(asyncio.Protocol):
    """One keep-alive connection, one request in flight at a time."""

    def __init__(self, load: Load) -> None:
        self.load = load
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.body: list[bytes] = []
        self.due = 0.0
        self.busy = False
        self.done = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def send(self, due: float) -> None:
        assert self.transport is not None
        self.due, self.body, self.busy = due, [], True
        self.transport.write(self.load.request())

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        self.busy = False
        self.load.answered(self, self.parser.get_status_code(), b"".join(self.body))

    def connection_lost(self, exc: Exception | None) -> None:
        self.done = True
        if self.busy:  # no answer will come: counted as refused with status 0
            self.busy = False
            self.load.answered(self, 0, b"")


class Load:
    def __init__(self, port: int, start: int) -> None:
        self.port = port
        self.sent = start  # numbers reporters; distinct across runs against one server
        self.result = Result()
        self.idle: deque[Client] = deque()
        self.clients: list[Client] = []
        self.backlog: deque[float] = deque()
        self.end = 0.0
        self.closed_loop = True
        self.finished: asyncio.Future[None] | None = None
        self.in_flight = 0

    def request(self) -> bytes:
        # A new reporter on a new /24 for every request, through the trusted proxy.
        i = self.sent
        self.sent += 1
        forwarded = f"{11 + (i >> 16) % 200}.{(i >> 8) & 255}.{i & 255}.7".encode()
        return (b"POST " + PATH + b" HTTP/1.1\r\nhost: 127.0.0.1\r\n"
                b"content-type: application/json\r\ncontent-length: "
                + str(len(BODY)).encode() + b"\r\nx-forwarded-for: " + forwarded
                + b"\r\n\r\n" + BODY)

    def answered(self, client: Client, status: int, body: bytes) -> None:
        now = time.perf_counter()
        self.in_flight -= 1
        result = self.result
        if status == 202:
            result.ok += 1
            result.latencies.append(now - client.due)
            result.ids.append(json.loads(body)["id"])
        else:
            result.refused[status] = result.refused.get(status, 0) + 1
        if client.done:
            pass
        elif self.closed_loop and now < self.end:
            self.dispatch(client, now)
        elif self.backlog:
            self.dispatch(client, self.backlog.popleft())
        else:
            self.idle.append(client)
        if self.in_flight == 0 and self.finished and not self.finished.done() and (
                self.closed_loop or now >= self.end):
            self.finished.set_result(None)

    def dispatch(self, client: Client, due: float) -> None:
        self.in_flight += 1
        client.send(due)

    def abandon(self) -> None:
        unanswered = self.in_flight + len(self.backlog)
        self.result.refused[0] = self.result.refused.get(0, 0) + unanswered
        self.in_flight, self.backlog = 0, deque()
        for client in self.clients:
            if client.busy and client.transport is not None:
                client.busy = False
                client.transport.close()

    def live_idle(self) -> Client | None:
        """An idle connection the server has not closed meanwhile (keep-alive timeout)."""
        while self.idle:
            client = self.idle.popleft()
            if not client.done and client.transport and not client.transport.is_closing():
                return client
        return None

    async def connect(self, n: int) -> None:
        """Have `n` open idle connections (the server closes idle ones after a while)."""
        loop = asyncio.get_running_loop()
        self.idle = deque(c for c in self.idle if not c.done)
        self.clients = [c for c in self.clients if not c.done]
        for _ in range(n - len(self.idle)):
            _, client = await loop.create_connection(lambda: Client(self), "127.0.0.1", self.port)
            self.idle.append(client)
            self.clients.append(client)

    async def closed(self, seconds: float) -> Result:
        loop = asyncio.get_running_loop()
        self.result, self.closed_loop = Result(), True
        self.finished = loop.create_future()
        started = time.perf_counter()
        self.end = started + seconds
        while (client := self.live_idle()) is not None:
            self.dispatch(client, started)
        await self.finished
        self.result.seconds = time.perf_counter() - started
        return self.result

    async def open(self, seconds: float, rate: float) -> Result:
        """Reports due on a fixed schedule, whatever the answers' speed."""
        loop = asyncio.get_running_loop()
        self.result, self.closed_loop = Result(), False
        self.finished = loop.create_future()
        started = time.perf_counter()
        self.end = started + seconds
        n = int(seconds * rate)
        k = 0
        while k < n:
            now = time.perf_counter()
            # Everything due by now goes out (to a queue if every connection is busy).
            while k < n and started + k / rate <= now:
                due = started + k / rate
                if (client := self.live_idle()) is not None:
                    self.dispatch(client, due)
                else:
                    self.backlog.append(due)
                k += 1
            await asyncio.sleep(max(0.0, started + k / rate - time.perf_counter()))
        # Sending is over: from now on the last answer ends the run (the loop's timers
        # have a millisecond's grain, so the last sleep may wake a little before `end`).
        self.end = min(self.end, time.perf_counter())
        if self.in_flight or self.backlog:
            # Bounded: what the server has not answered by then counts as refused with
            # status 0 ("no answer"), and those connections are dropped.
            try:
                await asyncio.wait_for(self.finished, 60 + 10 * seconds)
            except TimeoutError:
                self.abandon()
        self.result.seconds = time.perf_counter() - started
        return self.result


def cpu_seconds(pid: int, task: int | None = None) -> float:
    """User + system CPU time so far (Linux /proc) of a process (all its threads, those
    gone included) or of one of its threads (`task`), or 0 elsewhere."""
    stat = f"/proc/{pid}/stat" if task is None else f"/proc/{pid}/task/{task}/stat"
    try:
        fields = Path(stat).read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_cpu(pid: int) -> tuple[float, float]:
    """CPU seconds so far of a server and its worker processes, all threads, and of their
    main threads alone (each runs an event loop)."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    pids = [pid, *map(int, children)]
    return sum(map(cpu_seconds, pids)), sum(cpu_seconds(p, p) for p in pids)


async def measured(proc: subprocess.Popen[bytes], run: Awaitable[Result]) -> Result:
    # The main thread (task id = process id) runs the event loop: uvicorn and the ingest
    # path up to the group commit; the database writer and the rest are other threads.
    before, main_before = server_cpu(proc.pid)
    result = await run
    after, main_after = server_cpu(proc.pid)
    result.cpu, result.main_cpu = after - before, main_after - main_before
    return result


def start(
    kind: str, database: str, redis: str | None, workers: int
) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve", kind, str(port), database, str(workers),
         *([redis] if redis else [])],
        env={**os.environ, "PANTAU_SECRET_KEY": "bench"},
    )
    for _ in range(300):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc, port
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"{kind} server did not start")


def count_stored(database: str, acked: list[str]) -> tuple[int, int]:
    from sqlalchemy import create_engine, select

    from pantau.store.engine import normalise_url
    from pantau.store.schema.reports import reports

    engine = create_engine(normalise_url(database))
    with engine.connect() as conn:
        stored = set(conn.scalars(select(reports.c.id)))
    engine.dispose()
    return len(stored), len(set(acked) - stored)


@contextlib.contextmanager
def bench_database(server: str | None) -> Iterator[str]:
    """A new, empty database for one run: a temporary SQLite file, or a database made on
    the PostgreSQL server `server` names (dropped afterwards)."""
    if server is None:
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{Path(tmp) / 'bench.db'}"
        return
    from sqlalchemy import create_engine, text

    from pantau.store.engine import normalise_url

    name = f"pantau_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(normalise_url(server), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


async def main_async(
    seconds: float, rounds: int, concurrency: int, server: str | None, redis: str | None,
    workers: int,
) -> int:
    with bench_database(server) as database:
        store = "SQLite" if server is None else "PostgreSQL"
        print(f"ingest benchmark: {os.cpu_count()} CPUs shared with the load generator, "
              f"{rounds} rounds of {seconds:g} s, {concurrency} connections, uvicorn via "
              f"pantau.cli.serve.run_server, {workers} worker process(es) each; pantau on {store}"
              + (", limits and dedupe in Redis" if redis else ""))
        servers = {kind: start(kind, database, redis, workers) for kind in ("bare", "pantau")}
        acked: list[str] = []
        full: dict[str, list[Result]] = {"bare": [], "pantau": []}
        half: dict[str, list[Result]] = {"bare": [], "pantau": []}
        try:
            loads = {}
            for kind, (_, port) in servers.items():
                loads[kind] = Load(port, start=0)
                await loads[kind].connect(concurrency)
                await loads[kind].closed(1.0)  # warm-up
                acked += loads[kind].result.ids if kind == "pantau" else []
            print("full speed (closed loop):")
            for _ in range(rounds):
                for kind in ("bare", "pantau"):
                    await loads[kind].connect(concurrency)
                    result = await measured(servers[kind][0], loads[kind].closed(seconds))
                    full[kind].append(result)
                    print(result.line(kind))
            bare_rate = statistics.median(r.rate for r in full["bare"])
            rate = bare_rate / 2
            print(f"half the bare handler's median rate, {rate:.0f}/s (open loop, "
                  f"{4 * concurrency} connections):")
            for _ in range(rounds):
                for kind in ("bare", "pantau"):
                    await loads[kind].connect(4 * concurrency)
                    result = await measured(servers[kind][0], loads[kind].open(seconds, rate))
                    half[kind].append(result)
                    print(result.line(kind))
            # Not a target, for reading the above: the latency pantau gives at half of its
            # own full speed, where it is not overloaded.
            own = statistics.median(r.rate for r in full["pantau"]) / 2
            print(f"half pantau's own median rate, {own:.0f}/s (open loop, not a target):")
            calm: list[Result] = []
            for _ in range(rounds):
                await loads["pantau"].connect(4 * concurrency)
                run = loads["pantau"].open(seconds, own)
                calm.append(await measured(servers["pantau"][0], run))
                print(calm[-1].line("pantau"))
            print("the service page (GET /services/chatgpt, one connection, "
                  f"{1 / PAGE_INTERVAL:.0f}/s), not a target:")
            port = servers["pantau"][1]
            _, idle = await with_page(port, seconds, None)
            print(page_line("idle", idle))
            await loads["pantau"].connect(4 * concurrency)
            busy, paced = await with_page(port, seconds, loads["pantau"].open(seconds, own))
            assert busy is not None
            print(page_line(f"while taking reports at {own:.0f}/s", paced))
            await loads["pantau"].connect(concurrency)
            flat_out, flooded = await with_page(port, seconds, loads["pantau"].closed(seconds))
            assert flat_out is not None
            print(page_line(f"while taking reports flat out ({flat_out.rate:.0f}/s)", flooded))
            acked += [
                i for r in full["pantau"] + half["pantau"] + calm + [busy, flat_out] for i in r.ids
            ]
        finally:
            for proc, _ in servers.values():
                proc.terminate()
            for proc, _ in servers.values():
                proc.wait(timeout=30)
        total, lost = count_stored(database, acked)
        pantau_rate = statistics.median(r.rate for r in full["pantau"])
        p99 = statistics.median(r.p(99) for r in half["pantau"])
        refused = sum(sum(r.refused.values()) for r in half["pantau"])
        print(f"median full speed: bare {bare_rate:.0f}/s, pantau {pantau_rate:.0f}/s = "
              f"{pantau_rate / bare_rate:.0%} of bare (target >= 60%)")
        per = {k: statistics.median(r.cpu / r.ok for r in full[k]) * 1e6 for k in full}
        print(f"median server CPU per report at full speed: bare {per['bare']:.0f} us, "
              f"pantau {per['pantau']:.0f} us (bare / pantau = {per['bare'] / per['pantau']:.0%}: "
              f"the ratio the rates would have with a core each, free of other load)")
        loop = {k: statistics.median(r.main_cpu / r.ok for r in full[k]) * 1e6 for k in full}
        rest = statistics.median((r.cpu - r.main_cpu) / r.ok for r in full["pantau"]) * 1e6
        print(f"  of which the event loop's (main) thread: bare {loop['bare']:.0f} us, pantau "
              f"{loop['pantau']:.0f} us; pantau's other threads (the database writer) "
              f"{rest:.0f} us")
        print(f"median p99 at {rate:.0f}/s: pantau {p99:.1f} ms (target < 50 ms), "
              f"bare {statistics.median(r.p(99) for r in half['bare']):.1f} ms; "
              f"pantau refused {refused}")
        print(f"median p99 at {own:.0f}/s (half pantau's own rate): "
              f"{statistics.median(r.p(99) for r in calm):.1f} ms")
        print(f"acknowledged {len(acked)}, in the database {total}, lost {lost}")
        return 1 if lost else 0


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        serve(sys.argv[2], int(sys.argv[3]), sys.argv[4], (sys.argv[6:] or [None])[0],
              int(sys.argv[5]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--database", help="a PostgreSQL server to make the run's database on")
    parser.add_argument("--redis", help="a Redis server for the limits and the dedupe")
    parser.add_argument("--workers", type=int, default=1,
                        help="server processes, bare and pantau alike (pantau needs --redis)")
    args = parser.parse_args()
    if args.workers > 1 and args.redis is None:
        parser.error("--workers above 1 needs --redis, as pantau serve does")
    if args.database is not None and not args.database.startswith("postgresql"):
        parser.error("--database takes a postgresql:// URL (SQLite is the default)")
    return uvloop.run(
        main_async(args.seconds, args.rounds, args.concurrency, args.database, args.redis,
                   args.workers)
    )


if __name__ == "__main__":
    sys.exit(main())
