"""JSON API for official status pages: what the vendor says, and how late it says it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from pantau.catalog import Catalog, Service
from pantau.official.lag import AlarmTimes, distinct_alarms, pair, summarise
from pantau.official.mapping import service_components
from pantau.official.serialize import incident_dict
from pantau.signals import Text
from pantau.store.incidents import IncidentStoreMixin
from pantau.store.official import OfficialStoreMixin
from pantau.web.api import BRIEFLY_CACHED
from pantau.web.errors import NO_STATUS_PAGE, NOT_ENABLED, Problem, unknown_service

router = APIRouter()

RECENT_ERRORS = 10

STALE_AFTER = timedelta(minutes=15)
"""A page last read longer ago than this is stale even without an error: the poller
may not be running at all (several times the poll interval, so backoff alone does not
trip it before errors do)."""


def _store(request: Request) -> OfficialStoreMixin:
    store = request.app.state.store
    if not isinstance(store, OfficialStoreMixin):
        raise Problem(503, "not_enabled", NOT_ENABLED,
                      what=Text("official status pages", "halaman status resmi"))
    return store


def _service(request: Request, slug: str) -> Service:
    catalog: Catalog = request.app.state.catalog
    service = catalog.get(slug)
    if service is None:
        raise unknown_service(slug)
    return service


def _page_url(service: Service) -> str:
    if service.status_page is None:
        raise Problem(404, "no_status_page", NO_STATUS_PAGE, slug=service.slug)
    return str(service.status_page.url)


@router.get(
    "/api/v1/services/{slug}/official",
    summary="What the service's official status page says: state, incidents, maintenance",
    dependencies=BRIEFLY_CACHED,
)
async def official(request: Request, slug: str) -> dict[str, Any]:
    service = _service(request, slug)
    url = _page_url(service)
    store = _store(request)
    record = await store.official_page(url)
    out: dict[str, Any] = {
        "service": slug,
        "page_url": url,
        "checked": record is not None,
        "kind": None,
        "state": None,
        "page_state": None,
        "description": "",
        "stale": True,
        "fetched_at": None,
        "checked_at": None,
        "last_success_at": None,
        "failures": 0,
        "last_error": None,
        "recent_errors": [],
        "components": [],
        "open_incidents": [],
        "maintenance": [],
    }
    if record is None:
        return out
    now = request.app.state.clock.now()
    fresh = record.last_success_at is not None and now - record.last_success_at <= STALE_AFTER
    out |= {
        "kind": record.kind.value,
        "checked_at": record.checked_at.isoformat(),
        "last_success_at": record.last_success_at.isoformat() if record.last_success_at else None,
        "failures": record.failures,
        "stale": record.failures > 0 or record.snapshot is None or not fresh,
    }
    if record.failures and record.last_error:
        out["last_error"] = {
            "en": record.last_error,
            "id": record.last_error_id,
            "at": record.last_error_at.isoformat() if record.last_error_at else None,
        }
    out["recent_errors"] = [
        {
            "at": e.at.isoformat(),
            "kind": e.kind,
            "status": e.status,
            "en": e.message,
            "id": e.message_id,
        }
        for e in await store.official_errors(url, limit=RECENT_ERRORS)
    ]
    snap = record.snapshot
    if snap is None:
        return out
    names = service_components(service, snap.components)
    view = snap.to_signal(slug, components=names)
    wanted = set(names) if names is not None else None
    open_ids = {i.id for i in view.incidents}
    maint_ids = {m.id for m in view.maintenance}
    out |= {
        "state": view.page_state.value,
        "page_state": snap.state.value,
        "description": snap.description,
        "fetched_at": snap.fetched_at.isoformat(),
        "components": [
            {"name": c.name, "state": c.state.value, "group": c.group}
            for c in snap.components
            if wanted is None or c.name in wanted
        ],
        "open_incidents": [incident_dict(i) for i in snap.incidents if i.id in open_ids],
        "maintenance": [incident_dict(m) for m in snap.maintenances if m.id in maint_ids],
    }
    return out


def incident_alarm_times(store: IncidentStoreMixin, limit: int = 1000) -> AlarmTimes:
    """pantau's alarm times from the incidents the fusion stage opened: an incident's
    `opened_at` is when pantau said "this is down"."""

    async def alarm_times(service: str, since: datetime, until: datetime) -> Sequence[datetime]:
        recent = await store.recent_incidents(service=service, limit=limit)
        return [i.opened_at for i in recent if since <= i.opened_at <= until]

    return alarm_times


def _alarm_times(request: Request) -> AlarmTimes:
    # An explicit source on the app wins (replays, tests); else the incident store.
    times: AlarmTimes | None = getattr(request.app.state, "official_alarm_times", None)
    if times is not None:
        return times
    store = request.app.state.store
    if isinstance(store, IncidentStoreMixin):
        return incident_alarm_times(store)
    raise Problem(503, "not_enabled", NOT_ENABLED,
                  what=Text("pantau's own alarm times", "waktu alarm pantau sendiri"))


@router.get(
    "/api/v1/official/lag",
    summary="Per vendor: how long after pantau's first alarm the vendor first posted",
)
async def lag(request: Request, days: int = Query(30, ge=1, le=365)) -> JSONResponse:
    catalog: Catalog = request.app.state.catalog
    store = _store(request)
    alarm_times = _alarm_times(request)
    now = request.app.state.clock.now()
    since = now - timedelta(days=days)
    by_page: dict[str, list[Service]] = {}
    for service in catalog.services:
        if service.status_page is not None:
            by_page.setdefault(str(service.status_page.url), []).append(service)
    vendors = []
    for url, services in by_page.items():
        posts = await store.official_first_posts(url, since - timedelta(hours=1), now)
        # Services sharing a page usually alarm together for one vendor event.
        alarms = distinct_alarms(
            [at for s in services for at in await alarm_times(s.slug, since, now)]
        )
        summary = summarise(url, pair(alarms, posts, now))
        vendors.append(
            {
                "page_url": url,
                "services": [s.slug for s in services],
                **{k: v for k, v in asdict(summary).items() if k != "vendor"},
            }
        )
    return JSONResponse({"days": days, "since": since.isoformat(), "vendors": vendors})
