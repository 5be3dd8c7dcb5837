"""Open, update and resolve one service's incident from its minute-by-minute assessments.

Debounced both ways: a crowd alarm opens at once (the detector has already debounced
it), probes alone need `open_after` bad minutes in a row, and an incident resolves only
after `resolve_after` good minutes in a row, so a flapping service keeps one incident.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from pantau.incidents.attribute import official_words
from pantau.incidents.model import (
    Assessment,
    EventKind,
    Incident,
    IncidentEvent,
    Step,
    Tracking,
)
from pantau.official.words import status_words
from pantau.signals import OfficialStatus, ServiceState, Text, counted

_SEVERITY = {
    ServiceState.OPERATIONAL: 0,
    ServiceState.UNKNOWN: 0,
    ServiceState.MAINTENANCE: 1,
    ServiceState.DEGRADED: 2,
    ServiceState.OUTAGE: 3,
}


@dataclass(frozen=True, slots=True)
class TrackerConfig:
    open_after: int = 2
    resolve_after: int = 5


def incident_id(service: str, started_at: datetime) -> str:
    """Readable and deterministic, so replays produce the same URLs."""
    return f"{service}-{started_at:%Y%m%d-%H%M}"


def title_for(name: str, state: ServiceState) -> Text:
    if state is ServiceState.OUTAGE:
        return Text(f"{name} outage", f"Gangguan {name}")
    if state is ServiceState.MAINTENANCE:
        return Text(f"{name} maintenance", f"Pemeliharaan {name}")
    return Text(f"{name} problems", f"{name} bermasalah")


def _state_words(state: ServiceState) -> Text:
    return {
        ServiceState.OUTAGE: Text("down", "down"),
        ServiceState.DEGRADED: Text("partly working", "sebagian bermasalah"),
        ServiceState.MAINTENANCE: Text("under maintenance", "dalam pemeliharaan"),
        ServiceState.OPERATIONAL: Text("working", "berjalan normal"),
        ServiceState.UNKNOWN: Text("unknown", "tidak diketahui"),
    }[state]


def _official_admission(official: OfficialStatus | None) -> tuple[datetime, Text] | None:
    """When and what the vendor said, if its page admits a problem right now."""
    if official is None or official.error:
        return None
    active = [i for i in official.incidents if i.status not in ("resolved", "postmortem")]
    if active:
        first = min(active, key=lambda i: i.created_at)
        latest = max(active, key=lambda i: i.updated_at)
        status = status_words(latest.status)
        return first.created_at, Text(
            f"official status page: \u201c{latest.title}\u201d ({status.en})",
            f"halaman status resmi: \u201c{latest.title}\u201d ({status.id})",
        )
    if official.page_state.value not in ("operational", "maintenance"):
        words = official_words(official)
        return official.fetched_at, Text(f"official status page: {words.en}",
                                         f"halaman status resmi: {words.id}")
    return None


def track(prev: Tracking, a: Assessment, name: str, official: OfficialStatus | None = None,
          config: TrackerConfig = TrackerConfig()) -> Step:
    """Advance one service by one minute."""
    if a.state is ServiceState.UNKNOWN:
        # No data is no evidence either way: neither opens nor resolves.
        return Step(tracking=prev)
    if a.bad:
        return _bad_minute(prev, a, name, official, config)
    return _good_minute(prev, a, name, official, config)


def _bad_minute(prev: Tracking, a: Assessment, name: str, official: OfficialStatus | None,
                config: TrackerConfig) -> Step:
    first_bad = prev.first_bad_at or a.at
    streak = prev.bad_streak + 1
    tracking = replace(prev, bad_streak=streak, good_streak=0, first_bad_at=first_bad,
                       first_good_at=None, layer=a.layer)
    inc = prev.incident
    events: list[IncidentEvent] = []
    if inc is None:
        opens = (a.crowd_alarm or a.state is ServiceState.MAINTENANCE
                 or streak >= config.open_after)
        if not opens:
            return Step(tracking=tracking)
        inc = Incident(
            id=incident_id(a.service, first_bad), service=a.service, started_at=first_bad,
            opened_at=a.at, state=a.state, worst_state=a.state, layer=a.layer,
            scope=a.scope, title=title_for(name, a.state), cause=a.cause,
            evidence=a.evidence,
        )
        events.append(IncidentEvent(
            inc.id, a.at, EventKind.OPENED, a.state, a.layer,
            _join(Text(f"{name} is {_state_words(a.state).en}",
                       f"{name} {_state_words(a.state).id}"), a.cause),
        ))
    else:
        if a.state is not inc.state:
            events.append(IncidentEvent(
                inc.id, a.at, EventKind.STATE, a.state, a.layer,
                _join(Text(f"now {_state_words(a.state).en}",
                           f"kini {_state_words(a.state).id}"), a.cause),
            ))
        elif a.layer is not (prev.layer or inc.layer):
            events.append(IncidentEvent(
                inc.id, a.at, EventKind.LAYER, a.state, a.layer,
                a.cause or Text("the cause changed", "penyebabnya berubah"),
            ))
        if _SEVERITY[a.state] >= _SEVERITY[inc.worst_state]:
            inc = replace(inc, state=a.state, worst_state=a.state, layer=a.layer,
                          scope=a.scope, title=title_for(name, a.state), cause=a.cause,
                          evidence=a.evidence)
        else:
            # The incident is told by its worst: a milder tail (the probes well again,
            # people still reporting for a while) changes its state, and the timeline
            # says so, but not what it was (a resolved outage read "many people report
            # problems that our probes do not see" and "0 people reported...").
            inc = replace(inc, state=a.state)
    inc, official_events = _official(inc, a, official, prev)
    events.extend(official_events)
    changed = inc if (events or inc != prev.incident) else None
    return Step(tracking=replace(tracking, incident=inc,
                                 official_seen=_seen(official, prev.official_seen)),
                events=tuple(events), changed=changed)


def _good_minute(prev: Tracking, a: Assessment, name: str, official: OfficialStatus | None,
                 config: TrackerConfig) -> Step:
    first_good = prev.first_good_at or a.at
    streak = prev.good_streak + 1
    inc = prev.incident
    if inc is None:
        return Step(tracking=Tracking(good_streak=streak, first_good_at=first_good))
    tracking = replace(prev, good_streak=streak, bad_streak=0, first_good_at=first_good)
    events: list[IncidentEvent] = []
    inc, official_events = _official(inc, a, official, prev)
    events.extend(official_events)
    if streak >= config.resolve_after:
        inc = replace(inc, resolved_at=first_good, state=ServiceState.OPERATIONAL)
        minutes = inc.duration_minutes(first_good)
        events.append(IncidentEvent(
            inc.id, a.at, EventKind.RESOLVED, ServiceState.OPERATIONAL, inc.layer,
            Text(f"{name} works again; the problem lasted {minutes} minutes",
                 f"{name} kembali normal; gangguan berlangsung {minutes} menit"),
        ))
        return Step(tracking=Tracking(good_streak=streak, first_good_at=first_good),
                    events=tuple(events), changed=inc)
    seen = _seen(official, prev.official_seen)
    return Step(tracking=replace(tracking, incident=inc, official_seen=seen),
                events=tuple(events), changed=inc if events else None)


def _seen(official: OfficialStatus | None, prev: tuple[str, ...]) -> tuple[str, ...]:
    if official is None or official.error:
        return prev
    return tuple(sorted(f"{i.id}:{i.status}" for i in official.incidents))


def _official(inc: Incident, a: Assessment, official: OfficialStatus | None,
              prev: Tracking) -> tuple[Incident, list[IncidentEvent]]:
    """Record the vendor's first admission (to say how late it was) and its updates."""
    admission = _official_admission(official)
    if admission is None or official is None:
        return inc, []
    said_at, words = admission
    events: list[IncidentEvent] = []
    if inc.official_ack_at is None:
        ack = max(said_at, inc.started_at)
        late = round((ack - inc.started_at).total_seconds() / 60)
        inc = replace(inc, official_ack_at=ack)
        events.append(IncidentEvent(
            inc.id, a.at, EventKind.OFFICIAL, a.state, a.layer,
            Text(f"{words.en}, {counted(late, 'minute', 'minutes')} after the problems started",
                 f"{words.id}, {late} menit setelah gangguan dimulai"),
        ))
    elif set(_seen(official, ())) - set(prev.official_seen):
        events.append(IncidentEvent(inc.id, a.at, EventKind.OFFICIAL, a.state, a.layer,
                                    words))
    return inc, events


def _join(head: Text, cause: Text | None) -> Text:
    if cause is None:
        return head
    return Text(f"{head.en}: {cause.en}", f"{head.id}: {cause.id}")
