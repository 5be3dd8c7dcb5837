"""The content of a lab status page: incidents, their updates and component states.

Statuspage's vocabulary is used throughout (incident status investigating →
identified → monitoring → resolved; maintenance scheduled → in_progress →
completed; impact none/minor/major/critical/maintenance; component statuses
operational/degraded_performance/partial_outage/major_outage/under_maintenance),
because the incident.io shape is derived from the same facts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

IncidentStatus = Literal[
    "investigating", "identified", "monitoring", "resolved", "scheduled", "in_progress", "completed"
]
Impact = Literal["none", "minor", "major", "critical", "maintenance"]
ComponentStatus = Literal[
    "operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance"
]

CLOSED: frozenset[str] = frozenset({"resolved", "completed"})
MAINTENANCE: frozenset[str] = frozenset({"scheduled", "in_progress", "completed"})
_SEVERITY: dict[str, int] = {
    "operational": 0,
    "under_maintenance": 1,
    "degraded_performance": 2,
    "partial_outage": 3,
    "major_outage": 4,
}


@dataclass
class Update:
    at: datetime
    status: IncidentStatus
    body: str


@dataclass
class Incident:
    id: str
    title: str
    impact: Impact
    created_at: datetime
    updates: list[Update] = field(default_factory=list)
    components: dict[str, ComponentStatus] = field(default_factory=dict)
    scheduled_for: datetime | None = None
    scheduled_until: datetime | None = None

    @property
    def status(self) -> IncidentStatus:
        return self.updates[-1].status

    @property
    def updated_at(self) -> datetime:
        return self.updates[-1].at

    @property
    def is_maintenance(self) -> bool:
        return self.impact == "maintenance" or self.updates[0].status in MAINTENANCE

    @property
    def closed(self) -> bool:
        return self.status in CLOSED

    @property
    def resolved_at(self) -> datetime | None:
        return self.updated_at if self.closed else None


@dataclass
class StatusPage:
    """One service's official page: its components and every incident posted so far."""

    name: str
    components: list[str]
    incidents: list[Incident] = field(default_factory=list)

    def incident(self, incident_id: str) -> Incident | None:
        return next((i for i in self.incidents if i.id == incident_id), None)

    def post(
        self,
        incident_id: str,
        at: datetime,
        status: IncidentStatus,
        body: str = "",
        title: str | None = None,
        impact: Impact | None = None,
        components: dict[str, ComponentStatus] | None = None,
        scheduled_for: datetime | None = None,
        scheduled_until: datetime | None = None,
    ) -> Incident:
        """Open `incident_id` (a title is then required) or add an update to it."""
        incident = self.incident(incident_id)
        if incident is None:
            if title is None:
                raise ValueError(f"incident {incident_id!r} is new and needs a title")
            default_impact: Impact = "maintenance" if status in MAINTENANCE else "major"
            incident = Incident(incident_id, title, impact or default_impact, at)
            self.incidents.append(incident)
        elif title is not None:
            incident.title = title
        if impact is not None:
            incident.impact = impact
        incident.components.update(components or {})
        if scheduled_for is not None:
            incident.scheduled_for = scheduled_for
        if scheduled_until is not None:
            incident.scheduled_until = scheduled_until
        incident.updates.append(Update(at, status, body))
        return incident

    def component_status(self, component: str) -> ComponentStatus:
        worst: ComponentStatus = "operational"
        for incident in self.incidents:
            if incident.closed or incident.status == "scheduled":
                continue
            status = incident.components.get(component, "operational")
            if _SEVERITY[status] > _SEVERITY[worst]:
                worst = status
        return worst

    def indicator(self) -> str:
        """Statuspage's page-level indicator: none / minor / major / critical / maintenance."""
        states = [self.component_status(c) for c in self.components]
        if "major_outage" in states:
            return "critical" if states.count("major_outage") > 1 else "major"
        if "partial_outage" in states or "degraded_performance" in states:
            return "minor"
        if "under_maintenance" in states:
            return "maintenance"
        open_incidents = [i for i in self.incidents if not i.closed and not i.is_maintenance]
        return "minor" if open_incidents else "none"
