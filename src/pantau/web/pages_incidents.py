"""Incident pages: one incident with its timeline, and the history of past incidents."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from pantau.store.incidents import incident_store
from pantau.web.api import CatalogDep
from pantau.web.errors import no_incident, unknown_service
from pantau.web.page_text import LAYER, STATE
from pantau.web.render import render

router = APIRouter()
PAGE_SIZE = 50


@router.get("/incidents/{incident_id}", response_class=HTMLResponse, include_in_schema=False)
async def incident_page(request: Request, incident_id: str, catalog: CatalogDep) -> HTMLResponse:
    store = incident_store(request.app.state.store)
    inc = await store.incident(incident_id)
    if inc is None:
        raise no_incident(incident_id)
    events = await store.incident_events(incident_id)
    shared = await store.incident(inc.shared_id) if inc.shared_id else None
    names = {s.slug: s.name for s in catalog.services}
    now = request.app.state.clock.now()
    return render(request, "incident.html", inc=inc, events=events, shared=shared,
                  names=names, minutes=inc.duration_minutes(now), STATE=STATE, LAYER=LAYER)


@router.get("/history", response_class=HTMLResponse, include_in_schema=False)
async def history_page(request: Request, catalog: CatalogDep, service: str | None = None,
                       before: datetime | None = Query(None)) -> HTMLResponse:
    if service is not None and catalog.get(service) is None:
        raise unknown_service(service)
    store = incident_store(request.app.state.store)
    found = await store.recent_incidents(service=service, limit=PAGE_SIZE, before=before)
    names = {s.slug: s.name for s in catalog.services}
    now = request.app.state.clock.now()
    older = found[-1].started_at.isoformat() if len(found) == PAGE_SIZE else None
    return render(request, "history.html", incidents=found, names=names, service=service,
                  older=older, now=now, STATE=STATE, LAYER=LAYER)
