"""What polling official status pages costs: a full read versus a 304 Not Modified.

Serves a Statuspage-shaped page on loopback whose history holds 50 incidents of 5
updates each (a real page's maximum), then polls it with pantau's poller: once with
the page changing before every poll (every document fetched and parsed), once
unchanged (every document answers 304 and nothing is parsed). Also times the parse
alone. Prints one JSON line. The server shares the process and event loop, so the
poll timings include its side of each request.

Usage: python bench/official.py [--polls 200]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from aiohttp import web

from pantau.clock import SystemClock
from pantau.official.detect import ADAPTERS
from pantau.official.model import PageKind
from pantau.official.poller import PagePoller
from pantau.official.statuspage import parse_incidents, parse_summary

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def _incident(n: int) -> dict[str, Any]:
    start = T0 + timedelta(days=n)
    steps = ["investigating", "identified", "monitoring", "resolved", "postmortem"]
    updates = [
        {
            "id": f"u{n}-{k}",
            "status": s,
            "body": f"Update {k} on incident {n}. " * 8,
            "created_at": (start + timedelta(minutes=15 * k)).isoformat(),
            "affected_components": [
                {
                    "code": "c1",
                    "name": "API",
                    "old_status": "operational",
                    "new_status": "partial_outage",
                }
            ],
        }
        for k, s in reversed(list(enumerate(steps)))
    ]
    return {
        "id": f"i{n}",
        "name": f"Incident {n}",
        "status": "resolved",
        "impact": "major",
        "created_at": start.isoformat(),
        "updated_at": updates[0]["created_at"],
        "shortlink": f"https://stspg.io/{n}",
        "incident_updates": updates,
        "components": [{"name": "API"}],
    }


def documents(version: int) -> dict[str, bytes]:
    page = {"id": "p", "name": "Bench", "updated_at": T0.isoformat()}
    components = [
        {"id": f"c{k}", "name": f"Component {k}", "status": "operational"} for k in range(30)
    ]
    history = [_incident(n) for n in range(50)]
    summary = {
        "page": page,
        "status": {"indicator": "none", "description": f"v{version}"},
        "components": components,
        "incidents": [],
        "scheduled_maintenances": [],
    }
    return {
        "/api/v2/summary.json": json.dumps(summary).encode(),
        "/api/v2/incidents.json": json.dumps(
            {"page": page, "incidents": history, "v": version}
        ).encode(),
        "/api/v2/scheduled-maintenances.json": json.dumps(
            {"page": page, "scheduled_maintenances": [], "v": version}
        ).encode(),
    }


async def main(polls: int) -> dict[str, Any]:
    docs = documents(0)

    async def handle(request: web.Request) -> web.Response:
        body = docs[request.path]
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(body=body, content_type="application/json", headers={"ETag": etag})

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient() as client:
            poller = PagePoller(base, ADAPTERS[PageKind.STATUSPAGE], client, SystemClock())
            versions = [documents(n + 1) for n in range(polls)]
            start = time.perf_counter()
            for n in range(polls):
                docs = versions[n]  # the page changes: every poll reads and parses
                r = await poller.poll()
                assert r.parsed == 3, (n, r.parsed, r.error, r.not_modified)
            changed = (time.perf_counter() - start) / polls
            start = time.perf_counter()
            for _ in range(polls):
                assert (await poller.poll()).not_modified
            unchanged = (time.perf_counter() - start) / polls
    finally:
        await runner.cleanup()
    body = docs["/api/v2/incidents.json"]
    start = time.perf_counter()
    for _ in range(polls):
        parse_incidents("bench", body)
        parse_summary("bench", docs["/api/v2/summary.json"])
    parse = (time.perf_counter() - start) / polls
    return {
        "polls": polls,
        "history_bytes": len(body),
        "poll_changed_ms": round(changed * 1000, 2),
        "poll_304_ms": round(unchanged * 1000, 2),
        "parse_only_ms": round(parse * 1000, 2),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--polls", type=int, default=200)
    print(json.dumps(asyncio.run(main(parser.parse_args().polls))))
