"""Atlassian Statuspage v2 public API (`/api/v2/*.json`).

incident.io serves the same shape as a compatibility layer, so its adapter reuses
these parsers as its fallback.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import AwareDatetime

from pantau.official.model import (
    Component,
    ComponentState,
    Incident,
    PageKind,
    PagePart,
    Update,
)
from pantau.official.parsing import Lenient, validate_json
from pantau.official.sources import Document, Variant
from pantau.signals import OfficialPageState

Indicator = Literal["none", "minor", "major", "critical", "maintenance"]

INDICATOR_STATE: dict[str, OfficialPageState | None] = {
    "none": None,
    "minor": OfficialPageState.DEGRADED,
    "major": OfficialPageState.PARTIAL_OUTAGE,
    "critical": OfficialPageState.MAJOR_OUTAGE,
    "maintenance": OfficialPageState.MAINTENANCE,
}


class _Page(Lenient):
    name: str
    url: str | None = None


class _Status(Lenient):
    indicator: Indicator
    description: str = ""


class _Component(Lenient):
    id: str
    name: str
    status: ComponentState | None = None
    group: bool = False
    group_id: str | None = None


class _Affected(Lenient):
    name: str


class _ComponentRef(Lenient):
    name: str


class _Update(Lenient):
    id: str
    status: str
    body: str = ""
    created_at: AwareDatetime
    affected_components: list[_Affected] | None = None


class _Incident(Lenient):
    id: str
    name: str
    status: str
    impact: Indicator | None = None
    created_at: AwareDatetime
    updated_at: AwareDatetime | None = None
    resolved_at: AwareDatetime | None = None
    shortlink: str | None = None
    incident_updates: tuple[_Update, ...] = ()
    components: tuple[_ComponentRef, ...] = ()
    scheduled_for: AwareDatetime | None = None
    scheduled_until: AwareDatetime | None = None


class _Summary(Lenient):
    page: _Page
    status: _Status
    components: tuple[_Component, ...] = ()
    incidents: tuple[_Incident, ...] = ()
    scheduled_maintenances: tuple[_Incident, ...] = ()


class _Incidents(Lenient):
    page: _Page
    incidents: list[_Incident]


class _Maintenances(Lenient):
    page: _Page
    scheduled_maintenances: list[_Incident]


def _components(items: tuple[_Component, ...]) -> tuple[Component, ...]:
    # Groups are containers: their own status only echoes their children.
    groups = {c.id: c.name for c in items if c.group}
    return tuple(
        Component(id=c.id, name=c.name, state=c.status, group=groups.get(c.group_id or ""))
        for c in items
        if not c.group and c.status is not None
    )


def _incident(raw: _Incident, *, maintenance: bool) -> Incident:
    updates = tuple(
        sorted(
            (
                Update(
                    key=u.id,
                    status=u.status,
                    body=u.body,
                    at=u.created_at,
                    components=tuple(a.name for a in u.affected_components or ()),
                )
                for u in raw.incident_updates
            ),
            key=lambda u: u.at,
        )
    )
    names = [c.name for c in raw.components]
    for u in updates:
        names.extend(n for n in u.components if n not in names)
    return Incident(
        id=raw.id,
        title=raw.name,
        status=raw.status,
        created_at=raw.created_at,
        updated_at=raw.updated_at or max((u.at for u in updates), default=raw.created_at),
        updates=updates,
        components=tuple(dict.fromkeys(names)),
        impact=INDICATOR_STATE.get(raw.impact or "none"),
        url=raw.shortlink,
        is_maintenance=maintenance,
        scheduled_for=raw.scheduled_for,
        scheduled_until=raw.scheduled_until,
        resolved_at=raw.resolved_at,
    )


def parse_summary(url: str, body: bytes) -> PagePart:
    doc = validate_json(_Summary, url, body)
    return PagePart(
        name=doc.page.name,
        state=INDICATOR_STATE[doc.status.indicator] or OfficialPageState.OPERATIONAL,
        description=doc.status.description,
        components=_components(doc.components),
        incidents=tuple(_incident(i, maintenance=False) for i in doc.incidents),
        maintenances=tuple(_incident(m, maintenance=True) for m in doc.scheduled_maintenances),
    )


def parse_incidents(url: str, body: bytes) -> PagePart:
    doc = validate_json(_Incidents, url, body)
    return PagePart(incidents=tuple(_incident(i, maintenance=False) for i in doc.incidents))


def parse_maintenances(url: str, body: bytes) -> PagePart:
    doc = validate_json(_Maintenances, url, body)
    return PagePart(
        maintenances=tuple(_incident(m, maintenance=True) for m in doc.scheduled_maintenances)
    )


def page_root(url: str) -> str:
    """The page's base address, whether given as the page or as one of its API URLs."""
    parts = urlsplit(url)
    path = parts.path
    if "/api/v2/" in path:
        path = path[: path.index("/api/v2/")]
    return urlunsplit((parts.scheme, parts.netloc, path.rstrip("/"), "", ""))


def statuspage_variant(page_url: str, name: str = "statuspage") -> Variant:
    api = page_root(page_url) + "/api/v2"
    return Variant(
        name=name,
        documents=(
            Document(api + "/summary.json", parse_summary),
            # The summary lists only unresolved incidents; these two carry the recent
            # history (resolved incidents, completed windows) the archive needs.
            Document(api + "/incidents.json", parse_incidents, required=False),
            Document(api + "/scheduled-maintenances.json", parse_maintenances, required=False),
        ),
    )


class StatuspageAdapter:
    kind = PageKind.STATUSPAGE

    def variants(self, page_url: str) -> tuple[Variant, ...]:
        return (statuspage_variant(page_url),)
