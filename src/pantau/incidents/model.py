"""The data incident fusion produces: per-minute assessments, incidents and their events.

Plain frozen data, like `pantau.signals`, so that fusion stays a pure function that
replays cheaply and the store, the web pages and the CLI all read the same shapes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from pantau.signals import Layer, ServiceState, Text


class Scope(StrEnum):
    """Who is hit: everyone, some people (one feature, some vantage points) or one region."""

    NONE = "none"
    EVERYONE = "everyone"
    PARTIAL = "partial"
    REGION = "region"


class EventKind(StrEnum):
    OPENED = "opened"
    STATE = "state"
    LAYER = "layer"
    OFFICIAL = "official"
    LINKED = "linked"
    RESOLVED = "resolved"


@dataclass(frozen=True, slots=True)
class VantageBox:
    """One row of the probe matrix: what one vantage point saw, as You · CDN · Host boxes."""

    vantage: str
    ok: bool
    reliable: bool
    layer: Layer
    cause: str
    cdn: str | None
    status: int | None
    total_ms: float | None
    you: bool
    """False when the vantage point itself was cut off (its own network failed)."""
    edge: bool | None
    """None when the service has no CDN in front of it or the probe never reached it."""
    host: bool | None


@dataclass(frozen=True, slots=True)
class Advice:
    kind: str
    """wait | retry_later | check_connection | follow_official | maintenance | blocked |
    stay_logged_in | none"""
    text: Text
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Assessment:
    """One service's fused state for one minute, with the reasons for it."""

    service: str
    at: datetime
    state: ServiceState
    layer: Layer
    scope: Scope
    evidence: tuple[Text, ...] = ()
    cause: Text | None = None
    """The fault in words, e.g. "the server behind Cloudflare is not answering"."""
    region: str | None = None
    feature: str | None = None
    """"login" or "app" when the crowd points at one feature while the rest works."""
    failing_vantages: int = 0
    reliable_vantages: int = 0
    crowd_reporters: int = 0
    crowd_expected: float = 0.0
    crowd_alarm: bool = False
    probes_down: bool = False
    official_state: str | None = None
    boxes: tuple[VantageBox, ...] = ()
    categories: Mapping[str, int] = field(default_factory=dict)
    """This minute's crowd reports by category, region and error text (for the pages)."""
    regions: Mapping[str, int] = field(default_factory=dict)
    texts: Mapping[str, int] = field(default_factory=dict)

    @property
    def bad(self) -> bool:
        return self.state in (ServiceState.OUTAGE, ServiceState.DEGRADED,
                              ServiceState.MAINTENANCE)


@dataclass(frozen=True, slots=True)
class IncidentEvent:
    incident_id: str
    at: datetime
    kind: EventKind
    state: ServiceState
    layer: Layer
    text: Text


@dataclass(frozen=True, slots=True)
class Incident:
    """A period during which a service (or, when shared, a CDN) was not operational."""

    id: str
    service: str | None
    """None for a shared incident ("Cloudflare problem") that links several services."""
    started_at: datetime
    """The first bad minute, which is what people mean by "down since"."""
    opened_at: datetime
    state: ServiceState
    worst_state: ServiceState
    layer: Layer
    scope: Scope
    title: Text
    cause: Text | None = None
    evidence: tuple[Text, ...] = ()
    resolved_at: datetime | None = None
    shared_id: str | None = None
    cdn: str | None = None
    members: tuple[str, ...] = ()
    """For a shared incident: the services it links."""
    official_ack_at: datetime | None = None
    """When the vendor's status page first admitted the problem."""

    @property
    def open(self) -> bool:
        return self.resolved_at is None

    def duration_minutes(self, now: datetime) -> int:
        end = self.resolved_at or now
        return max(0, round((end - self.started_at).total_seconds() / 60))


@dataclass(frozen=True, slots=True)
class Tracking:
    """Per-service debouncing memory, carried from one minute to the next."""

    bad_streak: int = 0
    good_streak: int = 0
    first_bad_at: datetime | None = None
    first_good_at: datetime | None = None
    incident: Incident | None = None
    official_seen: tuple[str, ...] = ()
    """"incident-id:status" pairs already reported, so each vendor update is one event."""
    layer: Layer | None = None
    """The last bad minute's layer, to tell when the fault moves (the incident's own is
    its worst phase's)."""


@dataclass(frozen=True, slots=True)
class Step:
    """The result of one minute of tracking for one service."""

    tracking: Tracking
    events: tuple[IncidentEvent, ...] = field(default_factory=tuple)
    changed: Incident | None = None
    """The incident that was opened, updated or resolved this minute, if any."""
