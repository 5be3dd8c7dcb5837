"""incident.io status pages.

Their widget JSON (`/proxy/<host>`, the same shape as `/api/v1/summary` but wrapped in
`summary` and carrying the page structure) is read first: their Statuspage-compatible
endpoints can lag or leave things out. The compatible JSON is the fallback.
The widget shows only what is ongoing or scheduled and only each incident's latest
post, so the compatible `incidents.json` is fetched too, when present, for history.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from pydantic import AwareDatetime

from pantau.official import errors, statuspage
from pantau.official.model import (
    Component,
    ComponentState,
    Incident,
    PageKind,
    PagePart,
    Update,
    worst,
)
from pantau.official.parsing import Lenient, digest_key, earliest, validate_json
from pantau.official.sources import Document, Variant
from pantau.signals import OfficialPageState

Impact = Literal[
    "operational", "degraded_performance", "partial_outage", "full_outage", "under_maintenance"
]

IMPACT_STATE: dict[str, ComponentState] = {
    "operational": ComponentState.OPERATIONAL,
    "degraded_performance": ComponentState.DEGRADED,
    "partial_outage": ComponentState.PARTIAL_OUTAGE,
    "full_outage": ComponentState.MAJOR_OUTAGE,
    "under_maintenance": ComponentState.MAINTENANCE,
}

PAGE_STATE: dict[ComponentState, OfficialPageState] = {
    ComponentState.OPERATIONAL: OfficialPageState.OPERATIONAL,
    ComponentState.DEGRADED: OfficialPageState.DEGRADED,
    ComponentState.PARTIAL_OUTAGE: OfficialPageState.PARTIAL_OUTAGE,
    ComponentState.MAJOR_OUTAGE: OfficialPageState.MAJOR_OUTAGE,
    ComponentState.MAINTENANCE: OfficialPageState.MAINTENANCE,
}

MAINTENANCE_STATUS = {
    "maintenance_scheduled": "scheduled",
    "maintenance_in_progress": "in_progress",
    "maintenance_complete": "completed",
}


class _ComponentRef(Lenient):
    component_id: str | None = None
    id: str | None = None
    name: str | None = None
    status: Impact | None = None
    current_status: Impact | None = None

    @property
    def key(self) -> str:
        return self.component_id or self.id or self.name or ""

    @property
    def impact(self) -> Impact | None:
        return self.status or self.current_status


class _StructComponent(Lenient):
    component_id: str
    name: str
    hidden: bool = False


class _Group(Lenient):
    name: str
    hidden: bool = False
    components: tuple[_StructComponent, ...] = ()


class _Item(Lenient):
    component: _StructComponent | None = None
    group: _Group | None = None


class _Structure(Lenient):
    items: tuple[_Item, ...] = ()


class _Event(Lenient):
    id: str
    name: str
    status: str
    url: str | None = None
    published_at: AwareDatetime | None = None
    last_update_at: AwareDatetime | None = None
    last_update_message: str | None = None
    current_worst_impact: Impact | None = None
    affected_components: tuple[_ComponentRef, ...] = ()
    component_impacts: tuple[_ComponentRef, ...] = ()
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    started_at: AwareDatetime | None = None
    scheduled_end_at: AwareDatetime | None = None


class _Listed(Lenient):
    id: str
    name: str


class _Summary(Lenient):
    name: str | None = None
    components: tuple[_Listed, ...] = ()
    page_title: str | None = None
    public_url: str | None = None
    page_url: str | None = None
    affected_components: tuple[_ComponentRef, ...] = ()
    ongoing_incidents: tuple[_Event, ...] = ()
    in_progress_maintenances: tuple[_Event, ...] = ()
    scheduled_maintenances: tuple[_Event, ...] = ()
    structure: _Structure | None = None


class _Widget(Lenient):
    summary: _Summary


def _names(summary: _Summary) -> dict[str, tuple[str, str | None]]:
    """component id -> (name, group), from the structure and any named reference."""
    names: dict[str, tuple[str, str | None]] = {c.id: (c.name, None) for c in summary.components}
    for item in summary.structure.items if summary.structure else []:
        if item.component and not item.component.hidden:
            names[item.component.component_id] = (item.component.name, None)
        if item.group and not item.group.hidden:
            for c in item.group.components:
                if not c.hidden:
                    names[c.component_id] = (c.name, item.group.name)
    events = [*summary.ongoing_incidents, *summary.in_progress_maintenances]
    for ref in [*summary.affected_components, *(r for e in events for r in e.affected_components)]:
        if ref.name and ref.key not in names:
            names[ref.key] = (ref.name, None)
    return names


def _event(
    url: str, raw: _Event, names: dict[str, tuple[str, str | None]], *, maintenance: bool
) -> Incident:
    at = raw.last_update_at or raw.published_at or raw.started_at or raw.starts_at
    if at is None:
        raise errors.malformed(url, f"{raw.id!r} carries no time at all")
    refs = [*raw.affected_components, *raw.component_impacts]
    components = tuple(dict.fromkeys(names.get(r.key, (r.name or r.key, None))[0] for r in refs))
    status = MAINTENANCE_STATUS.get(raw.status, raw.status) if maintenance else raw.status
    update = Update(
        key=digest_key(raw.id, status, at.isoformat(), raw.last_update_message),
        status=status,
        body=raw.last_update_message or "",
        at=at,
        components=components,
    )
    impacts: list[Impact] = [i for r in raw.component_impacts if (i := r.impact) is not None]
    impact = raw.current_worst_impact or _worst_impact(impacts)
    return Incident(
        id=raw.id,
        title=raw.name,
        status=status,
        created_at=earliest(raw.published_at, at) or at,
        updated_at=at,
        updates=(update,),
        components=components,
        impact=PAGE_STATE[IMPACT_STATE[impact]] if impact else None,
        url=raw.url,
        is_maintenance=maintenance,
        scheduled_for=raw.starts_at or raw.started_at,
        scheduled_until=raw.ends_at or raw.scheduled_end_at,
    )


def _worst_impact(impacts: list[Impact]) -> Impact | None:
    order = list(IMPACT_STATE)
    ranked = sorted(impacts, key=order.index)
    return ranked[-1] if ranked else None


def parse_widget(url: str, body: bytes) -> PagePart:
    summary = validate_json(_Widget, url, body).summary
    names = _names(summary)
    status = {r.key: IMPACT_STATE[r.impact] for r in summary.affected_components if r.impact}
    components = tuple(
        Component(id=cid, name=name, group=group, state=status.get(cid, ComponentState.OPERATIONAL))
        for cid, (name, group) in names.items()
    )
    incidents = tuple(_event(url, e, names, maintenance=False) for e in summary.ongoing_incidents)
    maintenances = tuple(
        _event(url, e, names, maintenance=True)
        for e in [*summary.in_progress_maintenances, *summary.scheduled_maintenances]
    )
    state = worst(
        [
            *(PAGE_STATE[c.state] for c in components),
            *(i.impact for i in incidents if i.impact and i.raises_state),
            *(OfficialPageState.MAINTENANCE for m in maintenances if m.status == "in_progress"),
        ]
    )
    return PagePart(
        name=summary.name or summary.page_title,
        state=state,
        components=components,
        incidents=incidents,
        maintenances=maintenances,
    )


class IncidentIoAdapter:
    kind = PageKind.INCIDENTIO

    def variants(self, page_url: str) -> tuple[Variant, ...]:
        root = statuspage.page_root(page_url)
        host = urlsplit(page_url).hostname or ""
        history = Document(
            root + "/api/v2/incidents.json", statuspage.parse_incidents, required=False
        )
        return (
            Variant("widget", (Document(f"{root}/proxy/{host}", parse_widget), history)),
            statuspage.statuspage_variant(page_url, name="statuspage-compatible"),
        )
