"""The pages people land on: home ("Is ChatGPT down?") and one service's status page."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from pantau.incidents.view import STALE_AFTER
from pantau.store.incidents import MinuteRow, incident_store
from pantau.web.api import CatalogDep, ServiceDep
from pantau.web.chart import SPAN, report_chart
from pantau.web.page_text import BOX, CATEGORY, LAYER, STATE
from pantau.web.render import reader_language, reader_zone, render
from pantau.web.status import load_view

router = APIRouter()
home_router = APIRouter()
"""Takes over `/` from the catalog page; listed before `pages.router` in `create_app`."""
PROBLEM_WINDOW = timedelta(hours=1)
"""Reports counted for "most reported problems" when no incident is open."""


def top_shares(counts: Mapping[str, int], n: int) -> list[tuple[str, int, int]]:
    """The `n` largest entries as (key, count, rounded percent of the total)."""
    total = sum(counts.values())
    if total == 0:
        return []
    return [(k, c, round(100 * c / total)) for k, c in Counter(counts).most_common(n)]


def _sum(rows: Iterable[MinuteRow], field: str) -> Counter[str]:
    out: Counter[str] = Counter()
    for r in rows:
        out.update(getattr(r, field))
    return out


@home_router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def home(request: Request, catalog: CatalogDep, q: str | None = None) -> Response:
    if q:
        found = catalog.search(q)
        if len(found) == 1:
            return RedirectResponse(f"/services/{found[0].slug}", status_code=303)
        services = found
    else:
        services = list(catalog.services)
    store = incident_store(request.app.state.store)
    now = request.app.state.clock.now()
    states, recent = await asyncio.gather(store.service_states(),
                                          store.recent_incidents(limit=10))
    current = {slug: a for slug, a in states.items() if now - a.at <= STALE_AFTER}
    names = {s.slug: s.name for s in catalog.services}
    problems = sorted(((names[slug], slug, a) for slug, a in current.items()
                       if a.bad and slug in names), key=lambda x: x[0].casefold())
    return render(request, "home.html", services=services, query=q or "", states=current,
                  problems=problems, recent=recent, names=names, STATE=STATE, LAYER=LAYER)


@router.get("/services/{slug}", response_class=HTMLResponse, include_in_schema=False)
async def service_page(request: Request, service: ServiceDep) -> HTMLResponse:
    lang = reader_language(request)
    tz = reader_zone(request, lang)
    store = incident_store(request.app.state.store)
    now = request.app.state.clock.now()
    view, chart_rows = await asyncio.gather(load_view(request, service, tz),
                                            store.service_minutes(service.slug, now - SPAN))
    since = view.incident.started_at if view.incident else now - PROBLEM_WINDOW
    crowd_rows = await store.service_minutes(service.slug, since, crowd=True)
    events: list[Any] = []
    if view.incident is not None:
        events = await store.incident_events(view.incident.id)
    categories = _sum(crowd_rows, "categories")
    context: dict[str, Any] = {
        "service": service, "view": view, "STATE": STATE, "CATEGORY": CATEGORY,
        "LAYER": LAYER, "BOX": BOX,
        "chart": Markup(report_chart(chart_rows, now, tz, lang)),  # noqa: S704 - escaped in chart
        "problems": top_shares(categories, 3),
        "reports_total": sum(categories.values()),
        "texts": top_shares(_sum(crowd_rows, "texts"), 5),
        "regions": top_shares(_sum(crowd_rows, "regions"), 5),
        "events": events, "categories": list(CATEGORY),
    }
    return render(request, "service.html", **context)
