"""Storage for incident fusion: each service's current state, incidents, events, links."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, delete, insert, or_, select, update
from sqlalchemy.engine import Connection

from pantau.incidents.codec import assessment_in, assessment_out, incident_in, incident_out
from pantau.incidents.model import Assessment, EventKind, Incident, IncidentEvent
from pantau.signals import Layer, ServiceState, Text
from pantau.store.base import aware, utc
from pantau.store.schema.incidents import (
    incident_events,
    incident_links,
    incidents,
    service_minutes,
    service_state,
)

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TypeVar

    from pantau.store.writer import BatchWriter

    T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class MinuteRow:
    at: datetime
    state: ServiceState
    layer: Layer
    reporters: int
    expected: float
    categories: dict[str, int]
    regions: dict[str, int]
    texts: dict[str, int]


@dataclass(frozen=True, slots=True)
class StoredEvent:
    id: int
    event: IncidentEvent


class IncidentStoreMixin:
    if TYPE_CHECKING:
        writer: BatchWriter

        async def read(self, fn: Callable[[Connection], T]) -> T: ...

    async def save_fusion(self, at: datetime, assessments: Sequence[Assessment],
                          current: dict[str, Incident], changed: Sequence[Incident],
                          events: Sequence[IncidentEvent]) -> None:
        """Write one minute of fusion in one transaction (state, incidents, events, links)."""

        def write(conn: Connection) -> None:
            for inc in changed:
                _upsert_incident(conn, inc, at)
            for a in assessments:
                now_inc = current.get(a.service)
                open_id = now_inc.id if now_inc is not None and now_inc.open else None
                _upsert_state(conn, a, open_id)
                _minute(conn, a)
            for e in events:
                conn.execute(insert(incident_events).values(
                    incident_id=e.incident_id, at=e.at, kind=e.kind.value, state=e.state.value,
                    layer=e.layer.value, text_en=e.text.en, text_id=e.text.id))
            for inc in changed:
                if inc.shared_id is not None:
                    _link(conn, inc.shared_id, inc.id, at)

        await self.writer.submit(write)

    async def service_states(self) -> dict[str, Assessment]:
        def q(conn: Connection) -> dict[str, Assessment]:
            rows = conn.execute(select(service_state.c.service, service_state.c.assessment))
            return {r.service: assessment_in(r.assessment) for r in rows}

        return await self.read(q)

    async def state_versions(self) -> dict[str, datetime]:
        """Each service's latest fused minute: what live streams watch for changes."""

        def q(conn: Connection) -> dict[str, datetime]:
            rows = conn.execute(select(service_state.c.service, service_state.c.at))
            return {r.service: aware(r.at) for r in rows}

        return await self.read(q)

    async def service_state(self, slug: str) -> tuple[Assessment, Incident | None] | None:
        def q(conn: Connection) -> tuple[Assessment, Incident | None] | None:
            row = conn.execute(select(service_state).where(service_state.c.service == slug)
                               ).first()
            if row is None:
                return None
            inc = _get(conn, row.incident_id) if row.incident_id else None
            return assessment_in(row.assessment), inc

        return await self.read(q)

    async def incident(self, incident_id: str) -> Incident | None:
        return await self.read(lambda conn: _get(conn, incident_id))

    async def open_incidents(self) -> list[Incident]:
        def q(conn: Connection) -> list[Incident]:
            rows = conn.execute(select(incidents.c.data).where(incidents.c.resolved_at.is_(None))
                                .order_by(incidents.c.started_at))
            return [incident_in(r.data) for r in rows]

        return await self.read(q)

    async def recent_incidents(self, *, service: str | None = None, limit: int = 50,
                               before: datetime | None = None,
                               is_open: bool | None = None) -> list[Incident]:
        """Newest first; `service` also matches shared incidents that link it; `is_open`
        keeps only the open (True) or the resolved (False) ones, before the limit."""

        def q(conn: Connection) -> list[Incident]:
            stmt = select(incidents.c.data).order_by(incidents.c.started_at.desc(),
                                                     incidents.c.id).limit(limit)
            if service is not None:
                linked = select(incident_links.c.shared_id).join(
                    incidents, incidents.c.id == incident_links.c.incident_id
                ).where(incidents.c.service == service)
                stmt = stmt.where(or_(incidents.c.service == service,
                                      incidents.c.id.in_(linked)))
            if before is not None:
                stmt = stmt.where(incidents.c.started_at < utc(before))
            if is_open is not None:
                resolved_at = incidents.c.resolved_at
                stmt = stmt.where(resolved_at.is_(None) if is_open else resolved_at.is_not(None))
            return [incident_in(r.data) for r in conn.execute(stmt)]

        return await self.read(q)

    async def incident_events(self, incident_id: str, after_id: int = 0) -> list[StoredEvent]:
        def q(conn: Connection) -> list[StoredEvent]:
            rows = conn.execute(select(incident_events).where(and_(
                incident_events.c.incident_id == incident_id, incident_events.c.id > after_id,
            )).order_by(incident_events.c.id))
            return [StoredEvent(r.id, IncidentEvent(
                r.incident_id, aware(r.at), EventKind(r.kind), ServiceState(r.state),
                Layer(r.layer), Text(r.text_en, r.text_id))) for r in rows]

        return await self.read(q)

    async def service_minutes(self, slug: str, since: datetime, *,
                              crowd: bool = False) -> list[MinuteRow]:
        """Minutes since `since`, oldest first; `crowd` also loads the per-minute breakdown
        (categories, regions, texts), which the chart does not need."""

        def q(conn: Connection) -> list[MinuteRow]:
            t = service_minutes
            cols = [t.c.at, t.c.state, t.c.layer, t.c.reporters, t.c.expected]
            if crowd:
                cols.append(t.c.crowd)
            rows = conn.execute(select(*cols).where(t.c.service == slug, t.c.at >= since)
                                .order_by(t.c.at))
            out = []
            for r in rows:
                c = r.crowd if crowd else {}
                out.append(MinuteRow(aware(r.at), ServiceState(r.state), Layer(r.layer),
                                     r.reporters, r.expected, c.get("categories", {}),
                                     c.get("regions", {}), c.get("texts", {})))
            return out

        return await self.read(q)

    async def add_service_minutes(self, service: str, rows: Sequence[MinuteRow]) -> None:
        """Insert minutes of a past that fusion did not see (a demo's quiet history)."""
        values = [
            {"service": service, "at": r.at, "state": r.state.value, "layer": r.layer.value,
             "reporters": r.reporters, "expected": r.expected,
             "crowd": {"categories": r.categories, "regions": r.regions, "texts": r.texts}}
            for r in rows
        ]

        def write(conn: Connection) -> None:
            if values:
                conn.execute(insert(service_minutes), values)

        await self.writer.submit(write)

    async def prune_service_minutes(self, before: datetime) -> None:
        def write(conn: Connection) -> None:
            conn.execute(delete(service_minutes).where(service_minutes.c.at < before))

        await self.writer.submit(write)

    async def past_durations(self, service: str, layer: Layer, *, limit: int = 5,
                             before: datetime | None = None) -> list[int]:
        """Minutes that the latest resolved incidents of this kind lasted, newest first."""

        def q(conn: Connection) -> list[int]:
            stmt = (select(incidents.c.data)
                    .where(incidents.c.service == service, incidents.c.layer == layer.value,
                           incidents.c.resolved_at.is_not(None))
                    .order_by(incidents.c.resolved_at.desc()).limit(limit))
            if before is not None:
                stmt = stmt.where(incidents.c.resolved_at < utc(before))
            out = []
            for r in conn.execute(stmt):
                inc = incident_in(r.data)
                assert inc.resolved_at is not None
                out.append(inc.duration_minutes(inc.resolved_at))
            return out

        return await self.read(q)


def _minute(conn: Connection, a: Assessment) -> None:
    t = service_minutes
    conn.execute(delete(t).where(t.c.service == a.service, t.c.at == a.at))
    conn.execute(insert(t).values(
        service=a.service, at=a.at, state=a.state.value, layer=a.layer.value,
        reporters=a.crowd_reporters, expected=a.crowd_expected,
        crowd={"categories": dict(a.categories), "regions": dict(a.regions),
               "texts": dict(a.texts)}))


def _get(conn: Connection, incident_id: str) -> Incident | None:
    row = conn.execute(select(incidents.c.data).where(incidents.c.id == incident_id)).first()
    return incident_in(row.data) if row is not None else None


def _upsert_incident(conn: Connection, inc: Incident, at: datetime) -> None:
    values: dict[str, Any] = {
        "service": inc.service, "shared_id": inc.shared_id, "state": inc.state.value,
        "worst_state": inc.worst_state.value, "layer": inc.layer.value,
        "started_at": inc.started_at, "resolved_at": inc.resolved_at, "updated_at": at,
        "data": incident_out(inc),
    }
    # Group commit serialises all writes, so update-then-insert cannot race.
    done = conn.execute(update(incidents).where(incidents.c.id == inc.id).values(values))
    if done.rowcount == 0:
        conn.execute(insert(incidents).values(id=inc.id, **values))


def _upsert_state(conn: Connection, a: Assessment, incident_id: str | None) -> None:
    values: dict[str, Any] = {"at": a.at, "state": a.state.value, "layer": a.layer.value,
                              "incident_id": incident_id, "assessment": assessment_out(a)}
    done = conn.execute(update(service_state).where(service_state.c.service == a.service)
                        .values(values))
    if done.rowcount == 0:
        conn.execute(insert(service_state).values(service=a.service, **values))


def _link(conn: Connection, shared: str, member: str, at: datetime) -> None:
    exists = conn.execute(select(incident_links.c.shared_id).where(
        incident_links.c.shared_id == shared, incident_links.c.incident_id == member)).first()
    if exists is None:
        conn.execute(insert(incident_links).values(shared_id=shared, incident_id=member,
                                                   linked_at=at))


def incident_store(store: object) -> IncidentStoreMixin:
    """The store as fusion sees it; a clear error if `Store` was built without the mixin."""
    if not isinstance(store, IncidentStoreMixin):
        raise TypeError("pantau.store.Store must list IncidentStoreMixin among its bases")
    return store
