"""One minute of fusion for every service: assess, track incidents, link shared ones.

`FusionEngine` keeps the per-service debouncing memory between minutes; it is pure (no
clock, no I/O), so the minute job, replay tests and benchmarks drive the same code.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from pantau.incidents.fuse import FusionConfig, fuse
from pantau.incidents.model import Assessment, Incident, IncidentEvent, Tracking
from pantau.incidents.shared import SharedConfig, link_shared
from pantau.incidents.tracker import TrackerConfig, track
from pantau.signals import CrowdMinute, OfficialStatus, ProbeVerdict


@dataclass(frozen=True, slots=True)
class ServiceInput:
    slug: str
    name: str
    cdn: str | None = None
    crowd: CrowdMinute | None = None
    probes: Sequence[ProbeVerdict] = ()
    official: OfficialStatus | None = None
    crowd_recent: Sequence[CrowdMinute] = ()
    """The detector's minutes before `crowd` (regions and categories are counted over them)."""


@dataclass(frozen=True, slots=True)
class Minute:
    at: datetime
    assessments: Mapping[str, Assessment]
    incidents: Mapping[str, Incident]
    """Each service's current incident: open, or resolved this very minute."""
    changed: tuple[Incident, ...]
    """Service and shared incidents opened, updated or resolved this minute."""
    events: tuple[IncidentEvent, ...]


@dataclass
class FusionEngine:
    fusion: FusionConfig = field(default_factory=FusionConfig)
    tracker: TrackerConfig = field(default_factory=TrackerConfig)
    shared: SharedConfig = field(default_factory=SharedConfig)
    trackings: dict[str, Tracking] = field(default_factory=dict)
    open_shared: dict[str, Incident] = field(default_factory=dict)

    def resume(self, open_incidents: Iterable[Incident]) -> None:
        """Continue incidents that were open when the process last stopped."""
        for inc in open_incidents:
            if inc.service is None:
                self.open_shared[inc.id] = inc
            else:
                self.trackings[inc.service] = Tracking(
                    bad_streak=1, first_bad_at=inc.started_at, incident=inc, layer=inc.layer)

    def step(self, now: datetime, inputs: Sequence[ServiceInput]) -> Minute:
        assessments: dict[str, Assessment] = {}
        current: dict[str, Incident] = {}
        changed: dict[str, Incident] = {}
        events: list[IncidentEvent] = []
        for si in inputs:
            a = fuse(si.slug, now, si.crowd, si.probes, si.official, si.cdn, self.fusion,
                     si.crowd_recent)
            result = track(self.trackings.get(si.slug, Tracking()), a, si.name, si.official,
                           self.tracker)
            self.trackings[si.slug] = result.tracking
            assessments[si.slug] = a
            events.extend(result.events)
            inc = result.tracking.incident or result.changed
            if inc is not None:
                current[si.slug] = inc
            if result.changed is not None:
                changed[result.changed.id] = result.changed

        linked = link_shared(
            now, list(current.values()), {si.slug: si.cdn for si in inputs},
            list(self.open_shared.values()), {si.slug: si.name for si in inputs}, self.shared,
        )
        for member in linked.members:
            slug = member.service or ""
            current[slug] = member
            changed[member.id] = member
            t = self.trackings[slug]
            if t.incident is not None and t.incident.id == member.id:
                self.trackings[slug] = replace(t, incident=member)
        for s in linked.shared:
            changed[s.id] = s
            if s.open:
                self.open_shared[s.id] = s
            else:
                self.open_shared.pop(s.id, None)
        events.extend(linked.events)
        return Minute(now, assessments, current, tuple(changed.values()), tuple(events))
