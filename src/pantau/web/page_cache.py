"""The last renderings of the pages (and the status answers) everyone asks for during an
outage, for a few seconds.

When a big service fails, far more people load its page than report: each rendering
costs the event loop 8-10 ms and several database round trips (bench/pages.py), time
taken from the reports arriving at the same moment (bench/ingest.py, "the service
page"). What a page shows changes when a minute is fused or a vendor's status page is
read again, and a page already open follows the live stream (live.js), so a rendering
a few seconds old is as good as a new one.

A rendering is served again for `seconds` (of real time, whatever the app's clock)
from when it was made, and readers who ask while it is being made wait for it rather
than render it too. A rendering served again says how old it is (`Age`), so that a
browser or a CDN in front of pantau, which may keep an answer as long again
(`api.cache_briefly`), counts its time here against that. Only the zones most readers
have are kept (each language's default and Indonesia's): a page in any other zone is
rendered for its request, so that requests naming many zones cannot push out the pages
everyone asks for. Kept per process and per app.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import NamedTuple, TypeVar

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from pantau.settings import Settings
from pantau.web.render import remember_choices

SIZE = 512
"""Renderings kept: a page per service, language and kept zone, the home pages, and a
status answer per service and kept zone."""
R = TypeVar("R", bound=Response)
INDONESIA = ("Asia/Jakarta", "Asia/Pontianak", "Asia/Makassar", "Asia/Jayapura")


class Kept(NamedTuple):
    """A rendering served again, and the seconds since it was made."""

    body: bytes
    age: float


class PageCache:
    def __init__(
        self,
        seconds: float,
        zones: frozenset[str],
        size: int = SIZE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.zones = zones
        """The zones whose pages are kept."""
        self._seconds = seconds
        self._size = size
        self._clock = clock
        self._pages: OrderedDict[Hashable, tuple[float, bytes]] = OrderedDict()
        self._making: dict[Hashable, asyncio.Future[bytes | None]] = {}

    def get(self, key: Hashable) -> Kept | None:
        """The rendering kept for `key`, if younger than the cache's seconds."""
        kept = self._pages.get(key)
        if kept is None:
            return None
        age = self._clock() - kept[0]
        if age >= self._seconds:
            del self._pages[key]
            return None
        self._pages.move_to_end(key)
        return Kept(kept[1], age)

    def put(self, key: Hashable, body: bytes) -> None:
        self._pages[key] = (self._clock(), body)
        self._pages.move_to_end(key)
        if len(self._pages) > self._size:
            self._pages.popitem(last=False)

    async def page(
        self, key: Hashable, make: Callable[[], Awaitable[R]]
    ) -> tuple[R | None, Kept | None]:
        """(the response `make` gave, None) if this request rendered the page, else (None,
        the rendering kept or made for another request meanwhile)."""
        if self._seconds <= 0:
            return await make(), None
        kept = self.get(key)
        if kept is not None:
            return None, kept
        making = self._making.get(key)
        if making is not None:
            body = await asyncio.shield(making)
            if body is not None:
                return None, Kept(body, 0.0)
            return await make(), None  # that rendering failed: this reader tries anew
        future: asyncio.Future[bytes | None] = asyncio.get_running_loop().create_future()
        self._making[key] = future
        made: bytes | None = None
        try:
            response = await make()
            if response.status_code == 200:
                made = bytes(response.body)
                self.put(key, made)
            return response, None
        finally:
            del self._making[key]
            future.set_result(made)


def page_cache(request: Request) -> PageCache:
    """This app's cache (one per app: two apps in one process must not share pages)."""
    cache: PageCache | None = getattr(request.app.state, "page_cache", None)
    if cache is None:
        settings: Settings = request.app.state.settings
        zones = frozenset((settings.default_timezone_id, settings.default_timezone_en,
                           *INDONESIA))
        cache = request.app.state.page_cache = PageCache(settings.page_cache_seconds, zones)
    return cache


async def kept_page(
    request: Request, key: Hashable, zone_key: str, make: Callable[[], Awaitable[HTMLResponse]]
) -> HTMLResponse:
    """The page for `key` (in zone `zone_key`): kept, or made by `make` and kept, and
    answered with this reader's choices remembered."""
    made, kept = await _kept(request, key, zone_key, make)
    if made is not None:
        return made
    assert kept is not None
    response = HTMLResponse(kept.body, headers=_age(kept))
    remember_choices(request, response, zone_key)
    return response


async def kept_json(
    request: Request, key: Hashable, zone_key: str, make: Callable[[], Awaitable[Response]]
) -> Response:
    """The API's answer for `key` (times in zone `zone_key`), kept as pages are: during an
    outage scripts and `pantau check` ask for one service's status many times a second."""
    made, kept = await _kept(request, key, zone_key, make)
    if made is not None:
        return made
    assert kept is not None
    return Response(kept.body, media_type="application/json", headers=_age(kept))


async def _kept(
    request: Request, key: Hashable, zone_key: str, make: Callable[[], Awaitable[R]]
) -> tuple[R | None, Kept | None]:
    """(the response made for this request, None) or (None, the rendering kept)."""
    cache = page_cache(request)
    if zone_key not in cache.zones:
        return await make(), None
    return await cache.page(key, make)


def _age(kept: Kept) -> dict[str, str]:
    # Whole seconds, rounded down (RFC 9111, 5.1).
    return {"Age": str(int(kept.age))}
