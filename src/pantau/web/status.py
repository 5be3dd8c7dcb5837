"""The verdict API: a service's fused status, the incident list, and live updates (SSE)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from pantau.catalog import Service
from pantau.incidents.codec import incident_out
from pantau.incidents.sources import official_status
from pantau.incidents.view import ServiceView, build_view, view_json
from pantau.store.incidents import IncidentStoreMixin, incident_store
from pantau.web.api import BRIEFLY_CACHED, CatalogDep, ServiceDep, cache_briefly
from pantau.web.errors import no_incident, unknown_service
from pantau.web.i18n import zone
from pantau.web.live import LiveHub
from pantau.web.page_cache import kept_json

router = APIRouter()
SSE_POLL_SECONDS = 2.0
"""How often the process looks for newer fused minutes (wall-clock seconds)."""
SSE_KEEPALIVE = 15.0


def _hub(request: Request) -> LiveHub:
    # One per app (created on first use: the app factory knows nothing of live pages).
    hub: LiveHub | None = getattr(request.app.state, "live_hub", None)
    if hub is None:
        hub = request.app.state.live_hub = LiveHub(
            _store(request), SSE_POLL_SECONDS, request.app.state.runtime.redis)
    return hub


def _zone(request: Request, name: str | None) -> ZoneInfo:
    """The asked zone, else the operator's default for Indonesian readers (the API's texts
    come in both languages, and its first readers are in Indonesia)."""
    settings = request.app.state.settings
    return zone(name, "id", settings.default_timezone_id, settings.default_timezone_en)


def _store(request: Request) -> IncidentStoreMixin:
    return incident_store(request.app.state.store)


async def load_view(request: Request, service: Service, tz: tzinfo) -> ServiceView:
    """Everything the reader sees about `service`, rendered in zone `tz`."""
    store = _store(request)
    now: datetime = request.app.state.clock.now()
    stored = await store.service_state(service.slug)
    shared = None
    if stored is not None and stored[1] is not None and stored[1].shared_id:
        shared = await store.incident(stored[1].shared_id)
    official = await official_status(request.app.state.store, service)
    past: list[int] = []
    if stored is not None and stored[0].bad:
        past = await store.past_durations(service.slug, stored[0].layer, before=now)
    return build_view(service.slug, service.name, stored, shared, official, past, tz, now)


@router.get("/api/v1/services/{slug}/status", response_model=dict[str, Any],
            summary="Is it down? The fused state, verdict, cause, evidence and advice")
async def service_status(request: Request, service: ServiceDep,
                         tz: str | None = Query(None, description="IANA zone for times in "
                                                "the verdict (default PANTAU_DEFAULT_TIMEZONE_ID,"
                                                " Asia/Jakarta)")
                         ) -> Response:
    reader_zone = _zone(request, tz)

    async def make() -> Response:
        return JSONResponse(view_json(await load_view(request, service, reader_zone)))

    response = await kept_json(request, ("status", service.slug, reader_zone.key),
                               reader_zone.key, make)
    cache_briefly(request, response)
    return response


@router.get("/api/v1/incidents", summary="Recent incidents, newest first",
            dependencies=BRIEFLY_CACHED)
async def list_incidents(request: Request, catalog: CatalogDep,
                         service: str | None = None, state: str | None = Query(
                             None, pattern="^(open|resolved)$"),
                         limit: int = Query(50, ge=1, le=500)) -> list[dict[str, Any]]:
    if service is not None and catalog.get(service) is None:
        raise unknown_service(service)
    is_open = None if state is None else state == "open"
    found = await _store(request).recent_incidents(service=service, limit=limit, is_open=is_open)
    return [incident_out(i) for i in found]


@router.get("/api/v1/incidents/{incident_id}", summary="One incident with its timeline",
            dependencies=BRIEFLY_CACHED)
async def show_incident(request: Request, incident_id: str) -> dict[str, Any]:
    store = _store(request)
    inc = await store.incident(incident_id)
    if inc is None:
        raise no_incident(incident_id)
    events = await store.incident_events(incident_id)
    return {**incident_out(inc), "events": [
        {"at": e.event.at.isoformat(), "kind": e.event.kind.value, "state": e.event.state.value,
         "layer": e.event.layer.value, "text": {"en": e.event.text.en, "id": e.event.text.id}}
        for e in events]}


@router.get("/api/v1/services/{slug}/events", summary="Live status updates (Server-Sent Events)",
            response_class=StreamingResponse)
async def service_events(request: Request, service: ServiceDep,
                         tz: str | None = None) -> StreamingResponse:
    reader_zone = _zone(request, tz)

    hub = _hub(request)

    async def load() -> dict[str, Any]:
        return view_json(await load_view(request, service, reader_zone))

    async def stream() -> AsyncIterator[str]:
        # Tell the browser how long to wait before reconnecting after a drop.
        yield "retry: 5000\n\n"
        last: str | None = None
        async with hub.listening():
            while not await request.is_disconnected():
                seen = hub.versions.get(service.slug)
                body = await hub.shared_view((service.slug, reader_zone.key, seen), load,
                                             request.app.state.clock.now())
                key = json.dumps([body["at"], body["state"], body["layer"], body["incident"]],
                                 sort_keys=True)
                if key != last:
                    last = key
                    data = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
                    yield f"id: {body['at']}\nevent: status\ndata: {data}\n\n"
                if not await hub.wait(service.slug, seen, SSE_KEEPALIVE):
                    yield ": keep-alive\n\n"

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
