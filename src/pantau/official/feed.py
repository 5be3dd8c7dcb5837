"""RSS and Atom status feeds, read with feedparser.

A feed has no page state and no components: each entry is an incident (or a
maintenance window) with its latest post. Status-page feeds mark the latest post's
state as a bold word ("<strong>Resolved</strong> - ..."); without one, words in the
text decide, and an entry nothing marks as finished counts as under investigation.
"""

from __future__ import annotations

import calendar
import re
import time
import xml.sax
from datetime import UTC, datetime

import feedparser

from pantau.official import errors
from pantau.official.model import Incident, PageKind, PagePart, Update
from pantau.official.parsing import digest_key
from pantau.official.sources import Document, Variant

_KNOWN = (
    "investigating",
    "identified",
    "monitoring",
    "resolved",
    "postmortem",
    "scheduled",
    "in progress",
    "verifying",
    "completed",
)
_MARKED = re.compile(
    r"<(?:strong|b)>\s*([A-Za-z ]+?)\s*</(?:strong|b)>\s*-?\s*(.*?)(?=<small>|</p>|<p>|$)",
    re.IGNORECASE | re.DOTALL,
)
_TAG = re.compile(r"<[^>]+>")
_MAINTENANCE = re.compile(r"maintenance|pemeliharaan", re.IGNORECASE)


def _text(html: str) -> str:
    return " ".join(_TAG.sub(" ", html).split())


def _latest_post(html: str) -> tuple[str, str]:
    """(status, body) of the newest post: status-page feeds list posts newest first,
    each as "<strong>Status</strong> - body"; otherwise the words of the whole entry."""
    for word, body in _MARKED.findall(html):
        if word.lower() in _KNOWN:
            return str(word).lower().replace(" ", "_"), _text(body)
    text = _text(html)
    lowered = text.lower()
    for word in ("resolved", "completed", "monitoring", "identified"):
        if word in lowered:
            return word, text
    return "investigating", text


def _time(entry: feedparser.FeedParserDict, *names: str) -> datetime | None:
    for name in names:
        parsed: time.struct_time | None = entry.get(name)
        if parsed:
            return datetime.fromtimestamp(calendar.timegm(parsed), UTC)
    return None


def parse_feed(url: str, body: bytes) -> PagePart:
    parsed = feedparser.parse(body)
    exc = parsed.get("bozo_exception")
    if parsed.get("bozo") and isinstance(exc, xml.sax.SAXException):
        detail = str(getattr(exc, "getMessage", lambda: exc)())
        if "no element found" in detail or "unclosed token" in detail:
            raise errors.truncated(url, detail)
        raise errors.malformed(url, f"not a well-formed feed ({detail})")
    if not parsed.get("version"):
        raise errors.malformed(url, "not an RSS or Atom feed")
    incidents: list[Incident] = []
    maintenances: list[Incident] = []
    for entry in parsed.entries:
        published = _time(entry, "published_parsed", "updated_parsed")
        updated = _time(entry, "updated_parsed", "published_parsed")
        if published is None or updated is None:
            raise errors.malformed(url, f"entry {entry.get('title', '?')!r} has no date")
        title = str(entry.get("title", ""))
        html = str(entry.get("summary", ""))
        status, text = _latest_post(html)
        maintenance = bool(_MAINTENANCE.search(title)) or status in {"scheduled", "in_progress"}
        if maintenance and status == "resolved":
            status = "completed"
        ident = str(entry.get("id") or entry.get("link") or digest_key(title, published))
        incident = Incident(
            id=ident,
            title=title,
            status=status,
            created_at=published,
            updated_at=updated,
            updates=(
                Update(
                    key=digest_key(ident, status, updated.isoformat()),
                    status=status,
                    body=text,
                    at=updated,
                ),
            ),
            url=entry.get("link"),
            is_maintenance=maintenance,
        )
        (maintenances if maintenance else incidents).append(incident)
    return PagePart(
        name=str(parsed.feed.get("title", "")) or None,
        incidents=tuple(incidents),
        maintenances=tuple(maintenances),
    )


class FeedAdapter:
    kind = PageKind.FEED

    def variants(self, page_url: str) -> tuple[Variant, ...]:
        return (Variant("feed", (Document(page_url, parse_feed),)),)
