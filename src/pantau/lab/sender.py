"""Send simulated reports to a pantau server, in (scaled) real time.

Each report becomes `POST /api/v1/services/{slug}/reports` with JSON
`{category, region, text?}`, the reporter's id in `X-Pantau-Client` and its
simulated address in `X-Forwarded-For` (the server believes it only from a
trusted proxy, e.g. `PANTAU_TRUSTED_PROXIES=127.0.0.1/32`). A report is sent when
the clock reaches its time; with a `ScaledClock` shared with the server, the
server's rollups see the scenario's minutes.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import httpx

from pantau.clock import Clock
from pantau.lab.crowd import SimReport


@dataclass
class SendStats:
    sent: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    """HTTP status → count (e.g. 202 accepted, 429 rate limited, 404 unknown service)."""
    errors: int = 0
    """Reports that got no HTTP answer at all."""

    @property
    def accepted(self) -> int:
        return sum(n for status, n in self.statuses.items() if 200 <= status < 300)


def report_request(report: SimReport) -> tuple[str, dict[str, str], dict[str, str]]:
    """Path, headers and JSON body for one report."""
    body = {"category": report.category, "region": report.region}
    if report.text:
        body["text"] = report.text
    headers = {"X-Pantau-Client": report.client_id, "X-Forwarded-For": report.ip}
    return f"/api/v1/services/{report.service}/reports", headers, body


async def send_reports(
    reports: Iterable[SimReport],
    base_url: str,
    clock: Clock,
    *,
    concurrency: int = 32,
    client: httpx.AsyncClient | None = None,
) -> SendStats:
    """POST every report when `clock` reaches its time; returns what the server said."""
    stats = SendStats()
    limit = asyncio.Semaphore(concurrency)
    own = client is None
    http = client or httpx.AsyncClient(base_url=base_url, timeout=10.0)

    async def post(report: SimReport) -> None:
        path, headers, body = report_request(report)
        try:
            response = await http.post(path, json=body, headers=headers)
            stats.statuses[response.status_code] += 1
        except httpx.HTTPError:
            stats.errors += 1
        finally:
            limit.release()

    try:
        async with asyncio.TaskGroup() as group:
            for report in reports:
                delay = (report.at - clock.now()).total_seconds()
                if delay > 0:
                    await clock.sleep(delay)
                await limit.acquire()
                stats.sent += 1
                group.create_task(post(report))
    finally:
        if own:
            await http.aclose()
    return stats
