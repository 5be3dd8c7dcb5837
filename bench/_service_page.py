"""The service page's latency while a server takes reports, for bench/ingest.py.

A prober in a process of its own asks for GET /services/chatgpt on one keep-alive
connection, 20 times a second, from a line on its stdin for the seconds given, and
prints the latencies as JSON. `with_page` runs it beside a load.

Not a benchmark of its own (`make bench` skips bench/_*.py). Usage, as bench/ingest.py
runs it: python bench/_service_page.py PORT SECONDS
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Awaitable
from typing import TypeVar

import httptools
import numpy as np
import uvloop

T = TypeVar("T")

PAGE = b"GET /services/chatgpt HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n"
PAGE_INTERVAL = 0.05
"""Seconds between the service page's requests: 20 a second, a small share of the load."""
PAGE_TIMEOUT = 30.0
"""Seconds the prober waits for one page (or to start) before it gives up."""


class Page(asyncio.Protocol):
    """One keep-alive connection asking for the service page, one request at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.answer: asyncio.Future[int] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_message_complete(self) -> None:
        assert self.answer is not None
        self.answer.set_result(self.parser.get_status_code())

    def connection_lost(self, exc: Exception | None) -> None:
        if self.answer is not None and not self.answer.done():
            self.answer.set_exception(ConnectionError("the server closed the page's connection"))

    async def get(self) -> int:
        assert self.transport is not None
        self.answer = asyncio.get_running_loop().create_future()
        self.transport.write(PAGE)
        return await self.answer


async def page_latencies(port: int, seconds: float) -> list[float]:
    """Seconds each GET of the service page took, one every PAGE_INTERVAL (or as soon as
    the last is answered, if later), for `seconds` from a line on stdin: what a person
    asking "is it down?" waits while the reports pour in. Run in a process of its own
    (this script), so the load generator's own work does not delay the answers'
    reading."""
    loop = asyncio.get_running_loop()
    _, page = await loop.create_connection(Page, "127.0.0.1", port)
    for _ in range(5):  # the first renders fill the server's caches
        await asyncio.wait_for(page.get(), PAGE_TIMEOUT)
    print("ready", flush=True)
    await loop.run_in_executor(None, sys.stdin.readline)
    latencies = []
    started = time.perf_counter()
    due = started
    # Until the load's end, not a count of requests: late answers would otherwise carry
    # the last requests past the load, where they are quick.
    while due < started + seconds:
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        sent = time.perf_counter()
        status = await asyncio.wait_for(page.get(), PAGE_TIMEOUT)
        if status != 200:
            raise SystemExit(f"the service page answered {status}")
        answered = time.perf_counter()
        latencies.append(answered - sent)
        due = max(due + PAGE_INTERVAL, answered)
    assert page.transport is not None
    page.transport.close()
    return latencies


async def with_page(port: int, seconds: float, run: Awaitable[T] | None) -> tuple[
        T | None, list[float]]:
    """The service page's latencies (`page_latencies` in a child process) during `run`."""
    child = await asyncio.create_subprocess_exec(
        sys.executable, __file__, str(port), str(seconds),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert child.stdin is not None and child.stdout is not None
    try:
        ready = await asyncio.wait_for(child.stdout.readline(), 10 * PAGE_TIMEOUT)
        if ready != b"ready\n":
            raise SystemExit("the service page's prober did not start")
        child.stdin.write(b"go\n")
        result = await run if run is not None else None
        out, _ = await asyncio.wait_for(child.communicate(), seconds + 2 * PAGE_TIMEOUT)
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()
    if child.returncode:
        raise SystemExit("the service page's prober failed")
    return result, json.loads(out)


def page_line(name: str, latencies: list[float]) -> str:
    ms = np.array(latencies) * 1000
    return (f"  {name:44s} p50 {np.percentile(ms, 50):6.1f} ms  p99 {np.percentile(ms, 99):7.1f} ms"
            f"  max {ms.max():7.1f} ms  n={len(ms)}")


if __name__ == "__main__":
    print(json.dumps(uvloop.run(page_latencies(int(sys.argv[1]), float(sys.argv[2])))))
