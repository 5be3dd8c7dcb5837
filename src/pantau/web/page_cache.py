"""The last renderings of the pages everyone asks for during an outage, for a few seconds.

When a big service fails, far more people load its page than report: each rendering
costs the event loop 8-9 ms and several database round trips (bench/pages.py), time
taken from the reports arriving at the same moment (bench/ingest.py, "the service
page"). What a page shows changes when a minute is fused or a vendor's status page is
read again, and a page already open follows the live stream (live.js), so a rendering
a few seconds old is as good as a new one. Kept per process and per app; several
processes each keep their own, every one at most `seconds` old.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Hashable

from fastapi import Request
from fastapi.responses import HTMLResponse

from pantau.web.render import remember_choices

SIZE = 512
"""Renderings kept: a page per service, language and time zone a reader picked."""


class PageCache:
    def __init__(self, seconds: float, size: int = SIZE) -> None:
        self._seconds = seconds
        self._size = size
        self._pages: OrderedDict[Hashable, tuple[float, bytes]] = OrderedDict()

    def get(self, key: Hashable) -> bytes | None:
        """The rendering kept for `key`, if younger than the cache's seconds."""
        kept = self._pages.get(key)
        if kept is None:
            return None
        if time.monotonic() - kept[0] >= self._seconds:
            del self._pages[key]
            return None
        self._pages.move_to_end(key)
        return kept[1]

    def put(self, key: Hashable, body: bytes) -> None:
        if self._seconds <= 0:
            return
        self._pages[key] = (time.monotonic(), body)
        self._pages.move_to_end(key)
        if len(self._pages) > self._size:
            self._pages.popitem(last=False)


def page_cache(request: Request) -> PageCache:
    """This app's cache (one per app: two apps in one process must not share pages)."""
    cache: PageCache | None = getattr(request.app.state, "page_cache", None)
    if cache is None:
        cache = request.app.state.page_cache = PageCache(
            request.app.state.settings.page_cache_seconds
        )
    return cache


def kept_page(request: Request, key: Hashable, zone_key: str) -> HTMLResponse | None:
    """The page kept for `key` as this reader's answer (their choices remembered), if any."""
    body = page_cache(request).get(key)
    if body is None:
        return None
    response = HTMLResponse(body)
    remember_choices(request, response, zone_key)
    return response


def keep_page(request: Request, key: Hashable, response: HTMLResponse) -> HTMLResponse:
    page_cache(request).put(key, bytes(response.body))
    return response
