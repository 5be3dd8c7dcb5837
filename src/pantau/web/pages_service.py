"""The pages people land on: home ("Is ChatGPT down?") and one service's status page."""

from __future__ import annotations

import asyncio
from collections import Counter, OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from pantau.catalog import Service
from pantau.crowd.rollup import sum_counts
from pantau.incidents.attribute import official_words
from pantau.incidents.model import Scope
from pantau.incidents.view import STALE_AFTER, ServiceView
from pantau.official.words import status_words
from pantau.regions import home_provinces, region_name
from pantau.store.incidents import IncidentStoreMixin, StoredEvent, incident_store
from pantau.web.api import CatalogDep, ServiceDep
from pantau.web.chart import SPAN, report_chart
from pantau.web.page_cache import kept_page
from pantau.web.page_text import BOX, CATEGORY, LAYER, STATE, summary_boxes
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


@home_router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def home(request: Request, catalog: CatalogDep, q: str | None = None) -> Response:
    if q:
        found = catalog.search(q)
        if len(found) == 1:
            return RedirectResponse(f"/services/{found[0].slug}", status_code=303)
        services = found
    else:
        services = list(catalog.services)

    async def make() -> HTMLResponse:
        store = incident_store(request.app.state.store)
        now = request.app.state.clock.now()
        states, recent = await asyncio.gather(store.service_states(),
                                              store.recent_incidents(limit=10))
        current = {slug: a for slug, a in states.items() if now - a.at <= STALE_AFTER}
        names = {s.slug: s.name for s in catalog.services}
        problems = sorted(((names[slug], slug, a) for slug, a in current.items()
                           if (a.bad or a.scope is Scope.REGION) and slug in names),
                          key=lambda x: x[0].casefold())
        return render(request, "home.html", services=services, query=q or "",
                      states=current, problems=problems, recent=recent, names=names,
                      STATE=STATE, LAYER=LAYER)

    if q:  # not kept: the many queries would push out the pages everyone asks for
        return await make()
    lang = reader_language(request)
    zone_key = reader_zone(request, lang).key
    return await kept_page(request, ("home", lang, zone_key), zone_key, make)


@dataclass(frozen=True, slots=True)
class _Crowd:
    chart: str
    problems: list[tuple[str, int, int]]
    texts: list[tuple[str, int, int]]
    regions: list[tuple[str, int, int]]


_CROWD_CACHE_SIZE = 256


def _crowd_cache(request: Request) -> OrderedDict[tuple[object, ...], _Crowd]:
    # The chart and the crowd breakdown change only when a new minute is fused, while during
    # an outage many people load the same page each minute: keep the last few renderings.
    # One cache per app, as its key names no store: two apps in one process (tests, a
    # replay beside a server) must not see each other's charts.
    cache: OrderedDict[tuple[object, ...], _Crowd] | None = getattr(
        request.app.state, "crowd_cache", None)
    if cache is None:
        cache = request.app.state.crowd_cache = OrderedDict()
    return cache


async def _crowd(cache: OrderedDict[tuple[object, ...], _Crowd], store: IncidentStoreMixin,
                 slug: str, now: datetime, fused_at: datetime, since: datetime, tz: ZoneInfo,
                 lang: str) -> _Crowd:
    key = (slug, now.replace(second=0, microsecond=0), fused_at, since, tz.key, lang)
    cached = cache.get(key)
    if cached is not None:
        cache.move_to_end(key)
        return cached
    chart_rows, crowd_rows = await asyncio.gather(
        store.service_minutes(slug, now - SPAN), store.service_minutes(slug, since, crowd=True))
    made = _Crowd(report_chart(chart_rows, now, tz, lang),
                  top_shares(sum_counts(crowd_rows, "categories"), 3),
                  top_shares(sum_counts(crowd_rows, "texts"), 5),
                  top_shares(sum_counts(crowd_rows, "regions"), 5))
    cache[key] = made
    if len(cache) > _CROWD_CACHE_SIZE:
        cache.popitem(last=False)
    return made


@router.get("/services/{slug}", response_class=HTMLResponse, include_in_schema=False)
async def service_page(request: Request, service: ServiceDep) -> HTMLResponse:
    lang = reader_language(request)
    tz = reader_zone(request, lang)
    return await kept_page(request, ("service", service.slug, lang, tz.key), tz.key,
                           lambda: _service_page(request, service, lang, tz))


async def _service_page(
    request: Request, service: Service, lang: str, tz: ZoneInfo
) -> HTMLResponse:
    store = incident_store(request.app.state.store)
    now = request.app.state.clock.now()
    view = await load_view(request, service, tz)
    since = view.incident.started_at if view.incident else \
        now.replace(second=0, microsecond=0) - PROBLEM_WINDOW
    crowd, events = await asyncio.gather(
        _crowd(_crowd_cache(request), store, service.slug, now, view.assessment.at, since,
               tz, lang),
        store.incident_events(view.incident.id) if view.incident else _no_events())
    context: dict[str, Any] = {
        "service": service, "view": view, "STATE": STATE, "CATEGORY": CATEGORY,
        "LAYER": LAYER, "BOX": BOX,
        "chart": Markup(crowd.chart),  # noqa: S704 - the chart escapes every text itself
        "problems": crowd.problems, "texts": crowd.texts, "regions": crowd.regions,
        "events": events, "categories": list(CATEGORY),
        "region_name": region_name, "provinces": home_provinces(lang),
        "official_words": official_words, "status_words": status_words,
        # For live.js, which shows later minutes in the same words.
        "live_state": {s.value: t.get(lang) for s, t in STATE.items()},
        "live_layer": {layer.value: t.get(lang) for layer, t in LAYER.items()},
        "summary": summary_boxes(view.assessment.boxes, view.assessment.crowd_reporters,
                                 view.assessment.crowd_expected, _crowd_hurts(view)),
    }
    return render(request, "service.html", **context)


def _crowd_hurts(view: ServiceView) -> bool:
    a = view.assessment
    return a.crowd_alarm or (a.crowd_reporters >= 2 * a.crowd_expected + 3)


async def _no_events() -> list[StoredEvent]:
    return []
