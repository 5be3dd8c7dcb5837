"""The official status page server: every lab service's page on one loopback port.

Each service's page lives under `/s/<slug>/` and answers in both shapes, whatever
its kind (the catalog points at the one its kind names):

- Statuspage v2: `/s/<slug>/api/v2/{summary,status,components,incidents,
  incidents/unresolved,scheduled-maintenances,scheduled-maintenances/upcoming,
  scheduled-maintenances/active}.json`, `/s/<slug>/history.atom`, `/s/<slug>/history.rss`
- incident.io: `/s/<slug>/proxy/<any host>` (widget JSON), `/s/<slug>/feed.rss`,
  `/s/<slug>/feed.atom`

Content follows the page's incidents, which `Lab.apply` sets from the scenario
timeline and `Lab.post_status` changes by hand. Times are the lab clock's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from html import escape

from aiohttp import web

from pantau.clock import Clock
from pantau.lab import status_render as render
from pantau.lab.modes import PageMode
from pantau.lab.origin import serve_loopback
from pantau.lab.status_model import StatusPage

_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class StatusServer:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.pages: dict[str, StatusPage] = {}
        self.modes: dict[str, PageMode] = {}
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._never = asyncio.Event()

    def page_url(self, slug: str) -> str:
        return f"http://127.0.0.1:{self.port}/s/{slug}/"

    async def start(self) -> None:
        app = web.Application()
        routes = [
            ("/s/{slug}/api/v2/{doc:.+}.json", self._statuspage),
            ("/s/{slug}/history.{fmt:atom|rss}", self._feed),
            ("/s/{slug}/feed.{fmt:atom|rss}", self._feed),
            ("/s/{slug}/proxy/{host}", self._widget),
            ("/s/{slug}/", self._html),
        ]
        for path, handler in routes:
            app.router.add_get(path, self._guarded(handler))
        self._runner, self.port = await serve_loopback(app)

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def _guarded(self, handler: _Handler) -> _Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            slug = request.match_info["slug"]
            if slug not in self.pages:
                raise web.HTTPNotFound(text=f"no status page {slug!r}")
            mode = self.modes.get(slug, PageMode.OK)
            if mode is PageMode.HANG:
                await self._never.wait()
            if mode is PageMode.ERROR:
                return web.Response(status=503, text="Service Unavailable")
            if mode is PageMode.INVALID:
                return web.Response(text="<html>{ not what you expected", content_type="text/html")
            return await handler(request)

        return guarded

    def _page(self, request: web.Request) -> tuple[StatusPage, str]:
        slug = request.match_info["slug"]
        return self.pages[slug], self.page_url(slug)

    async def _statuspage(self, request: web.Request) -> web.StreamResponse:
        page, url = self._page(request)
        try:
            doc = render.statuspage_json(page, url, self.clock.now(), request.match_info["doc"])
        except KeyError:
            raise web.HTTPNotFound(text="no such document") from None
        return web.json_response(doc)

    async def _widget(self, request: web.Request) -> web.StreamResponse:
        page, url = self._page(request)
        return web.json_response(render.incidentio_widget(page, url))

    async def _feed(self, request: web.Request) -> web.StreamResponse:
        page, url = self._page(request)
        if request.match_info["fmt"] == "rss":
            text, kind = render.rss(page, url, self.clock.now()), "application/rss+xml"
        else:
            text, kind = render.atom(page, url, self.clock.now()), "application/atom+xml"
        return web.Response(text=text, content_type=kind)

    async def _html(self, request: web.Request) -> web.StreamResponse:
        page, _ = self._page(request)
        rows = "".join(
            f"<li>{escape(c)}: {page.component_status(c).replace('_', ' ')}</li>"
            for c in page.components
        )
        incidents = "".join(
            f"<li><strong>{escape(i.title)}</strong> ({i.status}): "
            f"{escape(i.updates[-1].body)}</li>"
            for i in page.incidents
            if not i.closed
        )
        body = (
            f"<!DOCTYPE html><html><head><title>{escape(page.name)} Status</title></head><body>"
            f"<h1>{escape(page.name)} Status</h1><ul>{rows}</ul><ul>{incidents}</ul>"
            "</body></html>"
        )
        return web.Response(text=body, content_type="text/html")
