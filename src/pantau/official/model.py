"""The normalised picture of a vendor status page, whatever format it came in.

Adapters turn each fetched document into a `PagePart`; parts of one page are merged
into a `PageSnapshot`. The snapshot keeps every incident update (the shared
`OfficialIncident` keeps only the latest), so the archive and the lag measurement
can see when the vendor first posted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from pantau.signals import OfficialIncident, OfficialPageState, OfficialStatus


class PageKind(StrEnum):
    STATUSPAGE = "statuspage"
    INCIDENTIO = "incidentio"
    FEED = "feed"
    """RSS or Atom: feedparser reads both, so one adapter serves both catalog kinds."""


class ComponentState(StrEnum):
    OPERATIONAL = "operational"
    DEGRADED = "degraded_performance"
    PARTIAL_OUTAGE = "partial_outage"
    MAJOR_OUTAGE = "major_outage"
    MAINTENANCE = "under_maintenance"


# Severity order used to pick "the worst" of several states; maintenance ranks above
# operational but below any outage, because an outage during maintenance is still news.
_SEVERITY: dict[OfficialPageState, int] = {
    OfficialPageState.OPERATIONAL: 0,
    OfficialPageState.MAINTENANCE: 1,
    OfficialPageState.DEGRADED: 2,
    OfficialPageState.PARTIAL_OUTAGE: 3,
    OfficialPageState.MAJOR_OUTAGE: 4,
}

COMPONENT_TO_PAGE: dict[ComponentState, OfficialPageState] = {
    ComponentState.OPERATIONAL: OfficialPageState.OPERATIONAL,
    ComponentState.DEGRADED: OfficialPageState.DEGRADED,
    ComponentState.PARTIAL_OUTAGE: OfficialPageState.PARTIAL_OUTAGE,
    ComponentState.MAJOR_OUTAGE: OfficialPageState.MAJOR_OUTAGE,
    ComponentState.MAINTENANCE: OfficialPageState.MAINTENANCE,
}

CLOSED_STATES = frozenset({"resolved", "postmortem", "completed"})
ACTIVE_MAINTENANCE_STATES = frozenset({"in_progress", "verifying"})


def worst(states: Iterable[OfficialPageState]) -> OfficialPageState:
    return max(states, key=_SEVERITY.__getitem__, default=OfficialPageState.OPERATIONAL)


@dataclass(frozen=True, slots=True)
class Component:
    id: str
    name: str
    state: ComponentState
    group: str | None = None


DIGEST_PREFIX = "h:"
"""Marks an update key pantau made up because the vendor gave none."""


@dataclass(frozen=True, slots=True)
class Update:
    """One post on an incident, as the vendor published it."""

    key: str
    """Stable identity: the vendor's id, or a digest of the post when it has none."""
    status: str
    body: str
    at: datetime
    components: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Incident:
    id: str
    title: str
    status: str
    created_at: datetime
    updated_at: datetime
    updates: tuple[Update, ...] = ()
    components: tuple[str, ...] = ()
    """Names of the affected components."""
    impact: OfficialPageState | None = None
    url: str | None = None
    is_maintenance: bool = False
    scheduled_for: datetime | None = None
    scheduled_until: datetime | None = None
    resolved_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.status not in CLOSED_STATES

    @property
    def raises_state(self) -> bool:
        """Open and not yet fixed: once the vendor is monitoring a deployed fix, the
        component states say more than the incident's impact at its worst."""
        return self.is_open and self.status != "monitoring"

    @property
    def first_post_at(self) -> datetime:
        """When the vendor first said anything: its earliest post or the incident's creation."""
        return min([self.created_at, *(u.at for u in self.updates)])

    def to_signal(self) -> OfficialIncident:
        latest = max(self.updates, key=lambda u: u.at, default=None)
        return OfficialIncident(
            id=self.id,
            title=self.title,
            status=self.status,
            created_at=self.created_at,
            updated_at=self.updated_at,
            url=self.url,
            body=latest.body if latest else "",
            components=self.components,
            is_maintenance=self.is_maintenance,
            scheduled_for=self.scheduled_for,
            scheduled_until=self.scheduled_until,
        )


@dataclass(frozen=True, slots=True)
class PagePart:
    """What one document of a page says; fields a document does not carry stay None/empty."""

    name: str | None = None
    state: OfficialPageState | None = None
    description: str | None = None
    components: tuple[Component, ...] | None = None
    incidents: tuple[Incident, ...] = ()
    maintenances: tuple[Incident, ...] = ()


@dataclass(frozen=True, slots=True)
class PageSnapshot:
    kind: PageKind
    url: str
    fetched_at: datetime
    state: OfficialPageState
    name: str = ""
    description: str = ""
    components: tuple[Component, ...] = ()
    incidents: tuple[Incident, ...] = ()
    maintenances: tuple[Incident, ...] = ()
    stale: bool = False
    error: str | None = None

    @property
    def open_incidents(self) -> tuple[Incident, ...]:
        return tuple(i for i in self.incidents if i.is_open)

    @property
    def current_maintenances(self) -> tuple[Incident, ...]:
        """Scheduled or active windows; completed ones are history."""
        return tuple(m for m in self.maintenances if m.is_open)

    def to_signal(self, service: str, *, components: Sequence[str] | None = None) -> OfficialStatus:
        """The shared signal for one service; `components` narrows it to that service's
        components (see `mapping`), None means the whole page speaks for the service."""
        state, incidents, maint = self.state, self.open_incidents, self.current_maintenances
        if components is not None:
            wanted = set(components)
            own = [c for c in self.components if c.name in wanted]
            state = worst(COMPONENT_TO_PAGE[c.state] for c in own)
            incidents = tuple(i for i in incidents if _touches(i, wanted))
            maint = tuple(m for m in maint if _touches(m, wanted))
            state = worst([state, *(i.impact for i in incidents if i.impact and i.raises_state)])
        return OfficialStatus(
            service=service,
            fetched_at=self.fetched_at,
            page_state=state,
            description=self.description,
            page_url=self.url,
            stale=self.stale,
            incidents=tuple(i.to_signal() for i in incidents),
            maintenance=tuple(m.to_signal() for m in maint),
            error=self.error,
        )


def _touches(incident: Incident, components: set[str]) -> bool:
    # An incident naming no component is page-wide: it concerns every service on the page.
    return not incident.components or bool(components.intersection(incident.components))


def merge_incidents(*groups: Iterable[Incident]) -> tuple[Incident, ...]:
    """One entry per incident id, the most recently updated version winning; updates
    seen in any version are kept (a summary may carry fewer than the full list)."""
    merged: dict[str, Incident] = {}
    for group in groups:
        for inc in group:
            old = merged.get(inc.id)
            if old is None:
                merged[inc.id] = inc
                continue
            newer, other = (inc, old) if inc.updated_at >= old.updated_at else (old, inc)
            merged[inc.id] = replace(newer, updates=_merge_updates(other.updates, newer.updates))
    return tuple(sorted(merged.values(), key=lambda i: i.created_at, reverse=True))


def _merge_updates(*groups: Iterable[Update]) -> tuple[Update, ...]:
    """The same post can come with the vendor's id (history) or a digest (widget): one
    status at one instant is one post, and the vendor's id is kept when known."""
    by_post: dict[tuple[str, datetime], Update] = {}
    for group in groups:
        for u in group:
            old = by_post.get((u.status, u.at))
            if old is None or old.key.startswith(DIGEST_PREFIX):
                by_post[(u.status, u.at)] = u
    return tuple(sorted(by_post.values(), key=lambda u: u.at))


def combine(
    kind: PageKind, url: str, fetched_at: datetime, parts: Sequence[PagePart]
) -> PageSnapshot:
    """Merge the parts of one page. Without an explicit page state (feeds), the state
    follows from what is open: an open incident's impact, else maintenance under way."""
    name = next((p.name for p in parts if p.name), "")
    description = next((p.description for p in parts if p.description), "")
    components = next((p.components for p in parts if p.components is not None), ())
    incidents = merge_incidents(*(p.incidents for p in parts))
    maintenances = merge_incidents(*(p.maintenances for p in parts))
    state = next((p.state for p in parts if p.state is not None), None)
    if state is None:
        state = worst(
            [
                *(i.impact or OfficialPageState.DEGRADED for i in incidents if i.raises_state),
                *(
                    OfficialPageState.MAINTENANCE
                    for m in maintenances
                    if m.status in ACTIVE_MAINTENANCE_STATES
                ),
            ]
        )
    return PageSnapshot(
        kind=kind,
        url=url,
        fetched_at=fetched_at,
        state=state,
        name=name,
        description=description,
        components=components,
        incidents=incidents,
        maintenances=maintenances,
    )
