"""Snapshots to and from JSON-ready dicts: for `--json`, the API and the stored state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pantau.official.model import (
    Component,
    ComponentState,
    Incident,
    PageKind,
    PageSnapshot,
    Update,
)
from pantau.signals import OfficialPageState


def _t(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


def _at(raw: Any) -> datetime | None:
    return datetime.fromisoformat(raw) if raw else None


def incident_dict(inc: Incident) -> dict[str, Any]:
    return {
        "id": inc.id,
        "title": inc.title,
        "status": inc.status,
        "open": inc.is_open,
        "impact": inc.impact.value if inc.impact else None,
        "created_at": _t(inc.created_at),
        "updated_at": _t(inc.updated_at),
        "first_post_at": _t(inc.first_post_at),
        "resolved_at": _t(inc.resolved_at),
        "url": inc.url,
        "components": list(inc.components),
        "is_maintenance": inc.is_maintenance,
        "scheduled_for": _t(inc.scheduled_for),
        "scheduled_until": _t(inc.scheduled_until),
        "updates": [
            {
                "key": u.key,
                "status": u.status,
                "body": u.body,
                "at": _t(u.at),
                "components": list(u.components),
            }
            for u in inc.updates
        ],
    }


def snapshot_dict(snap: PageSnapshot) -> dict[str, Any]:
    return {
        "kind": snap.kind.value,
        "url": snap.url,
        "name": snap.name,
        "state": snap.state.value,
        "description": snap.description,
        "fetched_at": _t(snap.fetched_at),
        "stale": snap.stale,
        "error": snap.error,
        "components": [
            {"id": c.id, "name": c.name, "state": c.state.value, "group": c.group}
            for c in snap.components
        ],
        "incidents": [incident_dict(i) for i in snap.incidents],
        "maintenances": [incident_dict(m) for m in snap.maintenances],
    }


def _incident(raw: dict[str, Any]) -> Incident:
    return Incident(
        id=raw["id"],
        title=raw["title"],
        status=raw["status"],
        created_at=datetime.fromisoformat(raw["created_at"]),
        updated_at=datetime.fromisoformat(raw["updated_at"]),
        updates=tuple(
            Update(
                key=u["key"],
                status=u["status"],
                body=u["body"],
                at=datetime.fromisoformat(u["at"]),
                components=tuple(u["components"]),
            )
            for u in raw["updates"]
        ),
        components=tuple(raw["components"]),
        impact=OfficialPageState(raw["impact"]) if raw["impact"] else None,
        url=raw["url"],
        is_maintenance=raw["is_maintenance"],
        scheduled_for=_at(raw["scheduled_for"]),
        scheduled_until=_at(raw["scheduled_until"]),
        resolved_at=_at(raw["resolved_at"]),
    )


def snapshot_from_dict(raw: dict[str, Any]) -> PageSnapshot:
    """Inverse of `snapshot_dict`; only ever fed what `snapshot_dict` wrote."""
    return PageSnapshot(
        kind=PageKind(raw["kind"]),
        url=raw["url"],
        fetched_at=datetime.fromisoformat(raw["fetched_at"]),
        state=OfficialPageState(raw["state"]),
        name=raw["name"],
        description=raw["description"],
        components=tuple(
            Component(c["id"], c["name"], ComponentState(c["state"]), c["group"])
            for c in raw["components"]
        ),
        incidents=tuple(_incident(i) for i in raw["incidents"]),
        maintenances=tuple(_incident(m) for m in raw["maintenances"]),
        stale=raw["stale"],
        error=raw["error"],
    )
