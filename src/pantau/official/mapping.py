"""Which of a status page's components speak for which catalog service.

Several services often share one page (ChatGPT and the OpenAI API both live on
status.openai.com), so each service gets the components that name it. A component
matches when its name contains the service's name, one of its aliases or an
endpoint's host; an `api` endpoint also claims components named "API". A service
that no component names is represented by the whole page (None).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

from pantau.catalog import Service
from pantau.official.model import Component, PageSnapshot
from pantau.signals import OfficialStatus


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9.]+", " ", text.lower()).split())


def _contains(haystack: str, needle: str) -> bool:
    # Word-bounded, so the alias "ai" does not claim "Email".
    return (
        bool(needle)
        and re.search(rf"(?<![a-z0-9]){re.escape(needle)}(?![a-z0-9])", haystack) is not None
    )


def match_components(
    components: Sequence[Component],
    *,
    name: str,
    aliases: Iterable[str] = (),
    endpoint_urls: Iterable[str] = (),
    endpoint_kinds: Iterable[str] = (),
    explicit: Sequence[str] | None = None,
) -> tuple[str, ...] | None:
    """Names of the components for one service; None means "the whole page".
    `explicit` (an operator's list) wins over name matching."""
    if explicit is not None:
        known = {c.name for c in components}
        return tuple(n for n in explicit if n in known) or None
    needles = {_norm(name), *(_norm(a) for a in aliases)}
    for url in endpoint_urls:
        host = urlsplit(url).hostname or ""
        needles.add(_norm(host))
    wants_api = "api" in set(endpoint_kinds)
    matched = [
        c.name
        for c in components
        if any(_contains(_norm(c.name), n) for n in needles)
        or (wants_api and _contains(_norm(c.name), "api"))
    ]
    return tuple(matched) or None


def service_components(service: Service, components: Sequence[Component]) -> tuple[str, ...] | None:
    """`match_components` for a catalog service."""
    return match_components(
        components,
        name=service.name,
        aliases=service.aliases,
        endpoint_urls=[str(e.url) for e in service.endpoints],
        endpoint_kinds=[e.kind.value for e in service.endpoints],
    )


def service_view(service: Service, snapshot: PageSnapshot) -> OfficialStatus:
    """What the page says about this one service."""
    return snapshot.to_signal(
        service.slug, components=service_components(service, snapshot.components)
    )
