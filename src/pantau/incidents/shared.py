"""Shared dependencies: several services behind one CDN failing together are one problem.

When services behind the same CDN open infrastructure-layer incidents within a few
minutes of each other, the common factor is the CDN: one shared incident ("Cloudflare
problem") links them, and each service's incident points at it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from pantau.incidents.attribute import cdn_name
from pantau.incidents.model import EventKind, Incident, IncidentEvent, Scope
from pantau.signals import Layer, ServiceState, Text

# Faults that a CDN can cause for everyone behind it; an app bug or maintenance cannot.
INFRA_LAYERS = frozenset({Layer.DNS, Layer.NETWORK, Layer.TLS, Layer.EDGE, Layer.ORIGIN})


@dataclass(frozen=True, slots=True)
class SharedConfig:
    min_services: int = 2
    window: timedelta = timedelta(minutes=10)
    """Members must have started within this long of the group's first member."""


@dataclass(frozen=True, slots=True)
class SharedStep:
    shared: tuple[Incident, ...]
    """Shared incidents opened, extended or resolved this minute (unchanged ones omitted)."""
    members: tuple[Incident, ...]
    """Service incidents that were newly linked (their `shared_id` set)."""
    events: tuple[IncidentEvent, ...]


def shared_id(cdn: str, started_at: datetime) -> str:
    # Prefixed: a CDN can also be a watched service (the catalog has "cloudflare").
    return f"shared-{cdn}-{started_at:%Y%m%d-%H%M}"


def link_shared(now: datetime, incidents: Sequence[Incident], cdn_of: Mapping[str, str | None],
                open_shared: Sequence[Incident], names: Mapping[str, str],
                config: SharedConfig = SharedConfig()) -> SharedStep:
    """Group open service incidents by CDN; open, extend or resolve shared incidents.

    `incidents` are the service incidents that are open now or resolved this minute;
    `open_shared` the shared incidents still open before this minute.
    """
    by_cdn: dict[str, list[Incident]] = {}
    for inc in incidents:
        cdn = cdn_of.get(inc.service or "")
        if cdn and inc.layer in INFRA_LAYERS:
            by_cdn.setdefault(cdn, []).append(inc)
    existing = {s.cdn: s for s in open_shared if s.cdn}
    out_shared: list[Incident] = []
    out_members: list[Incident] = []
    events: list[IncidentEvent] = []

    for cdn, group in sorted(by_cdn.items()):
        shared = before = existing.pop(cdn, None)
        group.sort(key=lambda i: i.started_at)
        anchor = shared.started_at if shared else group[0].started_at
        close = [i for i in group if i.open and i.started_at - anchor <= config.window]
        if shared is None:
            if len(close) < config.min_services:
                continue
            shared = _open(cdn, close, now, names)
            events.append(IncidentEvent(shared.id, now, EventKind.OPENED, shared.state,
                                        shared.layer, shared.cause or shared.title))
        new = [i for i in close if i.service not in shared.members]
        if new:
            members = tuple(sorted({*shared.members, *(i.service or "" for i in new)}))
            shared = replace(shared, members=members, title=_title(cdn),
                             cause=_cause(cdn, members, names))
            for inc in new:
                events.append(IncidentEvent(
                    shared.id, now, EventKind.LINKED, inc.state, inc.layer,
                    Text(f"{names.get(inc.service or '', inc.service)} is affected too",
                         f"{names.get(inc.service or '', inc.service)} ikut terdampak"),
                ))
        out_members.extend(replace(i, shared_id=shared.id) for i in close
                           if i.shared_id != shared.id)
        still_open = [i for i in group if i.open and i.service in shared.members]
        if not still_open:
            shared = _resolve(shared, group, now, events)
        if shared != before:
            out_shared.append(shared)

    # Shared incidents whose members all dropped out of the infra layers this minute.
    for shared in existing.values():
        out_shared.append(_resolve(shared, [], now, events))
    return SharedStep(tuple(out_shared), tuple(out_members), tuple(events))


def _open(cdn: str, members: list[Incident], now: datetime,
          names: Mapping[str, str]) -> Incident:
    start = members[0].started_at
    services = tuple(sorted(i.service or "" for i in members))
    return Incident(
        id=shared_id(cdn, start), service=None, started_at=start, opened_at=now,
        state=ServiceState.OUTAGE, worst_state=ServiceState.OUTAGE, layer=Layer.EDGE,
        scope=Scope.EVERYONE, title=_title(cdn), cause=_cause(cdn, services, names),
        cdn=cdn, members=services,
    )


def _resolve(shared: Incident, group: list[Incident], now: datetime,
             events: list[IncidentEvent]) -> Incident:
    ends = [i.resolved_at for i in group if i.resolved_at is not None]
    resolved = replace(shared, resolved_at=max(ends) if ends else now,
                       state=ServiceState.OPERATIONAL)
    name = cdn_name(shared.cdn)
    events.append(IncidentEvent(
        shared.id, now, EventKind.RESOLVED, ServiceState.OPERATIONAL, shared.layer,
        Text(f"all services behind {name} work again",
             f"semua layanan di balik {name} kembali normal"),
    ))
    return resolved


def _title(cdn: str) -> Text:
    name = cdn_name(cdn)
    return Text(f"{name} problem", f"Masalah {name}")


def _cause(cdn: str, members: tuple[str, ...], names: Mapping[str, str]) -> Text:
    name = cdn_name(cdn)
    listed = ", ".join(names.get(s, s) for s in members)
    return Text(
        f"{len(members)} services behind {name} fail in the same minutes ({listed}): "
        f"the common factor is {name}",
        f"{len(members)} layanan di balik {name} gagal pada menit yang sama ({listed}): "
        f"faktor bersamanya adalah {name}",
    )
