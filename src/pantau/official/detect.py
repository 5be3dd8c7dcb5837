"""Which adapter reads a status page: from the catalog's word, the URL, or by asking."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import httpx

from pantau.official import errors
from pantau.official.errors import PageError
from pantau.official.feed import FeedAdapter, parse_feed
from pantau.official.fetch import fetch
from pantau.official.incidentio import IncidentIoAdapter
from pantau.official.model import PageKind
from pantau.official.sources import Adapter
from pantau.official.statuspage import StatuspageAdapter

ADAPTERS: dict[PageKind, Adapter] = {
    PageKind.STATUSPAGE: StatuspageAdapter(),
    PageKind.INCIDENTIO: IncidentIoAdapter(),
    PageKind.FEED: FeedAdapter(),
}

CATALOG_KINDS: dict[str, PageKind | None] = {
    "statuspage": PageKind.STATUSPAGE,
    "incidentio": PageKind.INCIDENTIO,
    "rss": PageKind.FEED,
    "atom": PageKind.FEED,
    "auto": None,
}

_FEED_PATH = re.compile(r"(\.rss|\.atom|\.xml|/feed|/rss|/atom)/?$", re.IGNORECASE)
_FEED_LINK = re.compile(
    r"<link[^>]+type=[\"']application/(?:rss|atom)\+xml[\"'][^>]*>", re.IGNORECASE
)
_HREF = re.compile(r"href=[\"']([^\"']+)[\"']", re.IGNORECASE)


def guess_kind(url: str) -> PageKind | None:
    """What the URL alone says; None when only asking the page can tell."""
    path = urlsplit(url).path
    if _FEED_PATH.search(path):
        return PageKind.FEED
    if "/api/v2/" in path:
        return PageKind.STATUSPAGE
    if "/proxy/" in path:
        return PageKind.INCIDENTIO
    return None


async def detect(
    client: httpx.AsyncClient, url: str, *, seconds: float = 10.0
) -> tuple[PageKind, str]:
    """The page's kind and the URL to poll it by. Tries incident.io's widget first (an
    incident.io page also answers the Statuspage API), then Statuspage, then a feed the
    page itself is or links to. Raises `PageError` when nothing fits."""
    guessed = guess_kind(url)
    if guessed is not None:
        return guessed, url
    last: PageError | None = None
    for kind in (PageKind.INCIDENTIO, PageKind.STATUSPAGE):
        variant = ADAPTERS[kind].variants(url)[0]
        doc = variant.documents[0]
        try:
            got = await fetch(client, doc.url, seconds=seconds)
            if got.body is not None:
                doc.parse(doc.url, got.body)
                return kind, url
        except PageError as exc:
            # A page that is down, slow or failing says nothing about its kind: report that.
            if exc.kind in {errors.ErrorKind.UNREACHABLE, errors.ErrorKind.TIMEOUT} or (
                exc.status is not None and exc.status >= 500
            ):
                raise
            last = exc
    got = await fetch(client, url, seconds=seconds)
    body = got.body or b""
    try:
        parse_feed(url, body)
        return PageKind.FEED, url
    except PageError as exc:
        last = exc
    for link in _FEED_LINK.findall(body[:200_000].decode("utf-8", "replace")):
        href = _HREF.search(link)
        if href:
            return PageKind.FEED, urljoin(url, href.group(1))
    raise errors.unsupported(url) from last
