"""The shared vocabulary between pipeline stages.

Detection, probing, official-status ingestion and incident fusion are written by
different modules; these types are the contract between them. They are plain,
immutable data so that the pure stages can be replayed and tested cheaply.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Layer(StrEnum):
    """Where a fault sits, from the reader's device to the application (DESIGN.md)."""

    NONE = "none"
    CLIENT = "client"
    DNS = "dns"
    NETWORK = "network"
    TLS = "tls"
    EDGE = "edge"
    ORIGIN = "origin"
    APP = "app"
    OVERLOAD = "overload"
    MAINTENANCE = "maintenance"
    BLOCKED = "blocked"


class ServiceState(StrEnum):
    OPERATIONAL = "operational"
    DEGRADED = "degraded"
    OUTAGE = "outage"
    MAINTENANCE = "maintenance"
    UNKNOWN = "unknown"


class CrowdState(StrEnum):
    NORMAL = "normal"
    POSSIBLE = "possible"
    DETECTED = "detected"


class OfficialPageState(StrEnum):
    OPERATIONAL = "operational"
    DEGRADED = "degraded"
    PARTIAL_OUTAGE = "partial_outage"
    MAJOR_OUTAGE = "major_outage"
    MAINTENANCE = "maintenance"


@dataclass(frozen=True, slots=True)
class Text:
    """A sentence a person reads, in both of pantau's languages."""

    en: str
    id: str

    def get(self, language: str) -> str:
        return self.id if language.startswith("id") else self.en


def counted(n: int, one: str, many: str) -> str:
    """`n` and the English noun for it, singular for 1 ("1 report", "3 reports");
    Indonesian leaves its nouns as they are."""
    return f"{n} {one if n == 1 else many}"


@dataclass(frozen=True, slots=True)
class ProbeVerdict:
    """One probe's result, classified (written by `pantau.probes`)."""

    service: str
    monitor: str
    vantage: str
    at: datetime
    ok: bool
    layer: Layer
    cause: str
    cdn: str | None = None
    status: int | None = None
    total_ms: float | None = None
    evidence: Mapping[str, object] = field(default_factory=dict)
    reliable: bool = True
    """False when the vantage point itself was cut off when it probed."""


@dataclass(frozen=True, slots=True)
class CrowdMinute:
    """The detector's view of one service for one minute (written by `pantau.detect`)."""

    service: str
    minute: datetime
    reporters: int
    networks: int
    expected: float
    score: float
    state: CrowdState
    alarm: bool = False
    """True only in the minute the detector raised the alarm (onset)."""
    networks_10m: int = 0
    networks_30m: int = 0
    """Distinct networks of the last 10 and 30 minutes, this one included. Not a sum of
    `networks`: one network reporting every minute is one network."""
    categories: Mapping[str, int] = field(default_factory=dict)
    regions: Mapping[str, int] = field(default_factory=dict)
    texts: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OfficialIncident:
    id: str
    title: str
    status: str
    """investigating / identified / monitoring / resolved, or scheduled / in_progress /
    completed for maintenance."""
    created_at: datetime
    updated_at: datetime
    url: str | None = None
    body: str = ""
    components: tuple[str, ...] = ()
    is_maintenance: bool = False
    scheduled_for: datetime | None = None
    scheduled_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class OfficialStatus:
    """What a vendor's status page says about one service (written by `pantau.official`)."""

    service: str
    fetched_at: datetime
    page_state: OfficialPageState
    description: str = ""
    page_url: str | None = None
    stale: bool = False
    incidents: tuple[OfficialIncident, ...] = ()
    maintenance: tuple[OfficialIncident, ...] = ()
    error: str | None = None
