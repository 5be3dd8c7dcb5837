"""What a reader is shown about one service: the stored fusion result rendered for them.

Pure: the web API, the pages, the SSE stream and `pantau check` all go through
`build_view`, so the sentence a person reads is the same everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from pantau.incidents.advice import advise
from pantau.incidents.codec import assessment_out, incident_out, text_out
from pantau.incidents.model import Advice, Assessment, Incident, Scope
from pantau.incidents.timefmt import clock_time
from pantau.incidents.verdict import verdict
from pantau.signals import Layer, OfficialStatus, ServiceState, Text

STALE_AFTER = timedelta(minutes=10)
"""A stored state older than this says nothing about now: the fusion job is not running."""


@dataclass(frozen=True, slots=True)
class ServiceView:
    slug: str
    name: str
    assessment: Assessment
    incident: Incident | None
    shared: Incident | None
    official: OfficialStatus | None
    past: tuple[int, ...]
    verdict: Text
    advice: tuple[Advice, ...]
    checked: Text
    """When the verdict was fused, as the verdict says times ("18:33 WIB", with the date
    if not today): the page and its live updates show it in the same words."""

    @property
    def state(self) -> ServiceState:
        return self.assessment.state

    @property
    def layer(self) -> Layer:
        return self.assessment.layer


def build_view(slug: str, name: str, stored: tuple[Assessment, Incident | None] | None,
               shared: Incident | None, official: OfficialStatus | None,
               past: Sequence[int], tz: tzinfo, now: datetime) -> ServiceView:
    if stored is None or now - stored[0].at > STALE_AFTER:
        a = Assessment(service=slug, at=now, state=ServiceState.UNKNOWN, layer=Layer.NONE,
                       scope=Scope.NONE)
        incident = stored[1] if stored else None
    else:
        a, incident = stored
    if incident is not None and not incident.open:
        incident = None
    if shared is not None and not shared.open:
        shared = None
    return ServiceView(
        slug=slug, name=name, assessment=a, incident=incident, shared=shared,
        official=official, past=tuple(past),
        verdict=verdict(a, incident, official, past, name, tz, shared),
        advice=advise(a, incident, official, past, name, tz),
        checked=clock_time(a.at, tz, now),
    )


def advice_out(x: Advice) -> dict[str, Any]:
    return {"kind": x.kind, "text": text_out(x.text), "url": x.url}


def official_out(o: OfficialStatus | None) -> dict[str, Any] | None:
    if o is None:
        return None
    return {
        "page_state": o.page_state.value, "description": o.description, "url": o.page_url,
        "fetched_at": o.fetched_at.isoformat(), "stale": o.stale, "error": o.error,
        "incidents": [{"id": i.id, "title": i.title, "status": i.status, "url": i.url,
                       "created_at": i.created_at.isoformat(),
                       "updated_at": i.updated_at.isoformat(), "body": i.body}
                      for i in o.incidents],
        "maintenance": [{"id": m.id, "title": m.title, "status": m.status,
                         "scheduled_for": m.scheduled_for.isoformat() if m.scheduled_for
                         else None,
                         "scheduled_until": m.scheduled_until.isoformat() if m.scheduled_until
                         else None} for m in o.maintenance],
    }


def view_json(v: ServiceView) -> dict[str, Any]:
    """The body of `GET /api/v1/services/{slug}/status` (and of each SSE message)."""
    a = assessment_out(v.assessment)
    return {
        "service": v.slug, "name": v.name, "at": a["at"], "state": a["state"],
        "layer": a["layer"], "scope": a["scope"], "region": a["region"],
        "feature": a["feature"],
        "verdict": text_out(v.verdict), "checked": text_out(v.checked),
        "cause": a["cause"], "evidence": a["evidence"],
        "incident": incident_out(v.incident) if v.incident else None,
        "shared_incident": incident_out(v.shared) if v.shared else None,
        "advice": [advice_out(x) for x in v.advice],
        "probes": {"failing_vantages": a["failing_vantages"],
                   "reliable_vantages": a["reliable_vantages"], "vantages": a["boxes"]},
        "crowd": {"reporters": a["crowd_reporters"], "expected": a["crowd_expected"],
                  "alarm": a["crowd_alarm"]},
        "official": official_out(v.official),
        "past_durations_minutes": list(v.past),
    }
