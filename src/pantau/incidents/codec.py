"""Assessments and incidents to and from JSON-able dicts (for the store, the API and SSE)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pantau.incidents.model import Assessment, Incident, Scope, VantageBox
from pantau.signals import Layer, ServiceState, Text


def text_out(t: Text | None) -> dict[str, str] | None:
    return None if t is None else {"en": t.en, "id": t.id}


def text_in(d: Any) -> Text | None:
    return None if not d else Text(str(d["en"]), str(d["id"]))


def _dt(d: Any) -> datetime | None:
    return None if d is None else datetime.fromisoformat(d)


def box_out(b: VantageBox) -> dict[str, Any]:
    return {
        "vantage": b.vantage, "ok": b.ok, "reliable": b.reliable, "layer": b.layer.value,
        "cause": b.cause, "cdn": b.cdn, "status": b.status, "total_ms": b.total_ms,
        "you": b.you, "edge": b.edge, "host": b.host,
    }


def box_in(d: dict[str, Any]) -> VantageBox:
    return VantageBox(
        vantage=d["vantage"], ok=d["ok"], reliable=d["reliable"], layer=Layer(d["layer"]),
        cause=d["cause"], cdn=d["cdn"], status=d["status"], total_ms=d["total_ms"],
        you=d["you"], edge=d["edge"], host=d["host"],
    )


def assessment_out(a: Assessment) -> dict[str, Any]:
    return {
        "service": a.service, "at": a.at.isoformat(), "state": a.state.value,
        "layer": a.layer.value, "scope": a.scope.value,
        "evidence": [text_out(e) for e in a.evidence], "cause": text_out(a.cause),
        "region": a.region, "feature": a.feature, "failing_vantages": a.failing_vantages,
        "reliable_vantages": a.reliable_vantages, "crowd_reporters": a.crowd_reporters,
        "crowd_expected": a.crowd_expected, "crowd_alarm": a.crowd_alarm,
        "probes_down": a.probes_down, "official_state": a.official_state,
        "boxes": [box_out(b) for b in a.boxes], "categories": dict(a.categories),
        "regions": dict(a.regions), "texts": dict(a.texts),
    }


def assessment_in(d: dict[str, Any]) -> Assessment:
    return Assessment(
        service=d["service"], at=datetime.fromisoformat(d["at"]), state=ServiceState(d["state"]),
        layer=Layer(d["layer"]), scope=Scope(d["scope"]),
        evidence=tuple(t for t in (text_in(e) for e in d["evidence"]) if t is not None),
        cause=text_in(d["cause"]), region=d["region"], feature=d.get("feature"),
        failing_vantages=d["failing_vantages"],
        reliable_vantages=d["reliable_vantages"], crowd_reporters=d["crowd_reporters"],
        crowd_expected=d["crowd_expected"], crowd_alarm=d["crowd_alarm"],
        probes_down=d["probes_down"], official_state=d["official_state"],
        boxes=tuple(box_in(b) for b in d["boxes"]), categories=d.get("categories", {}),
        regions=d.get("regions", {}), texts=d.get("texts", {}),
    )


def incident_out(i: Incident) -> dict[str, Any]:
    return {
        "id": i.id, "service": i.service, "started_at": i.started_at.isoformat(),
        "opened_at": i.opened_at.isoformat(), "state": i.state.value,
        "worst_state": i.worst_state.value, "layer": i.layer.value, "scope": i.scope.value,
        "title": text_out(i.title), "cause": text_out(i.cause),
        "evidence": [text_out(e) for e in i.evidence],
        "resolved_at": i.resolved_at.isoformat() if i.resolved_at else None,
        "shared_id": i.shared_id, "cdn": i.cdn, "members": list(i.members),
        "official_ack_at": i.official_ack_at.isoformat() if i.official_ack_at else None,
    }


def incident_in(d: dict[str, Any]) -> Incident:
    title = text_in(d["title"])
    assert title is not None  # every stored incident has a title
    return Incident(
        id=d["id"], service=d["service"], started_at=datetime.fromisoformat(d["started_at"]),
        opened_at=datetime.fromisoformat(d["opened_at"]), state=ServiceState(d["state"]),
        worst_state=ServiceState(d["worst_state"]), layer=Layer(d["layer"]),
        scope=Scope(d["scope"]), title=title, cause=text_in(d["cause"]),
        evidence=tuple(t for t in (text_in(e) for e in d["evidence"]) if t is not None),
        resolved_at=_dt(d["resolved_at"]), shared_id=d["shared_id"], cdn=d["cdn"],
        members=tuple(d["members"]), official_ack_at=_dt(d["official_ack_at"]),
    )
