"""The crowd API: a service's reports per minute against the level expected for that time.

What the page's chart draws, for programs: each minute's distinct reporters and
networks, the detector's expected level, score and state, and what people reported
(problem categories, regions, error texts). Single reports stay private: only these
per-minute rollups leave the server.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Query, Request

from pantau.crowd.rollup import sum_counts
from pantau.signals import CrowdMinute
from pantau.store.reports import reports_store
from pantau.web.api import BRIEFLY_CACHED, ServiceDep

router = APIRouter()
MAX_MINUTES = 24 * 60


def minute_json(m: CrowdMinute) -> dict[str, Any]:
    return {
        "minute": m.minute.isoformat(),
        "reporters": m.reporters,
        "networks": m.networks,
        "expected": round(m.expected, 3),
        "score": round(m.score, 3),
        "state": m.state.value,
        "alarm": m.alarm,
        "categories": m.categories,
        "regions": m.regions,
        "texts": m.texts,
    }


def _top(minutes: list[CrowdMinute], name: str, n: int) -> dict[str, int]:
    return dict(sum_counts(minutes, name).most_common(n))


@router.get(
    "/api/v1/services/{slug}/crowd",
    summary="Reports per minute against the expected level, with what people reported",
    dependencies=BRIEFLY_CACHED,
)
async def service_crowd(
    request: Request,
    service: ServiceDep,
    minutes: int = Query(
        60, ge=1, le=MAX_MINUTES, description="How many minutes back from now (at most a day)"
    ),
) -> dict[str, Any]:
    now = request.app.state.clock.now().replace(second=0, microsecond=0)
    store = reports_store(request.app.state.store)
    rows = await store.crowd_minutes(now - timedelta(minutes=minutes), now, service.slug)
    alarms = [m.minute.isoformat() for m in rows if m.alarm]
    return {
        "service": service.slug,
        "since": (now - timedelta(minutes=minutes)).isoformat(),
        "until": now.isoformat(),
        "reporters": sum(m.reporters for m in rows),
        "expected": round(sum(m.expected for m in rows), 3),
        "state": rows[-1].state.value if rows else None,
        "alarms": alarms,
        "categories": _top(rows, "categories", 10),
        "regions": _top(rows, "regions", 10),
        "texts": _top(rows, "texts", 10),
        "minutes": [minute_json(m) for m in rows],
    }
