"""Several services behind one CDN failing in the same minutes become one linked incident."""

from __future__ import annotations

from incident_factories import all_ok, cf_502, minute, probe

from pantau.incidents.engine import FusionEngine, Minute, ServiceInput
from pantau.incidents.model import EventKind
from pantau.signals import Layer, ServiceState

SERVICES = (("chatgpt", "ChatGPT", "cloudflare"), ("discord", "Discord", "cloudflare"),
            ("x", "X", "cloudflare"), ("tokopedia", "Tokopedia", "akamai"))


def edge_500(n: int, slug: str) -> list:  # type: ignore[type-arg]
    return [probe(minute(n), v, ok=False, layer=Layer.EDGE, status=500, service=slug)
            for v in ("jakarta", "singapore", "frankfurt")]


def step(engine: FusionEngine, n: int, failing: dict[str, str]) -> Minute:
    inputs = []
    for slug, name, cdn in SERVICES:
        kind = failing.get(slug)
        if kind == "edge":
            probes = edge_500(n, slug)
        elif kind == "origin":
            probes = cf_502(minute(n), service=slug)
        else:
            probes = all_ok(minute(n), service=slug)
        inputs.append(ServiceInput(slug, name, cdn, None, probes, None))
    return engine.step(minute(n), inputs)


def test_cdn_failure_links_services_and_resolves_when_all_recover() -> None:
    engine = FusionEngine()
    step(engine, 0, {"chatgpt": "edge"})
    m = step(engine, 1, {"chatgpt": "edge", "discord": "edge"})
    assert m.incidents["chatgpt"].state is ServiceState.OUTAGE
    assert "discord" not in m.incidents  # still debouncing
    assert engine.open_shared == {}
    m = step(engine, 2, {"chatgpt": "edge", "discord": "edge", "x": "origin"})
    shared = [i for i in m.changed if i.service is None]
    assert len(shared) == 1
    s = shared[0]
    assert s.id == "shared-cloudflare-20250123-1130" and s.title.en == "Cloudflare problem"
    assert s.title.id == "Masalah Cloudflare"
    assert s.members == ("chatgpt", "discord")
    assert m.incidents["chatgpt"].shared_id == s.id
    assert "tokopedia" not in m.incidents
    m = step(engine, 3, {"chatgpt": "edge", "discord": "edge", "x": "origin"})
    s = engine.open_shared[s.id]
    assert s.members == ("chatgpt", "discord", "x")
    assert any(e.kind is EventKind.LINKED for e in m.events)
    resolved = []
    for n in range(4, 10):
        m = step(engine, n, {})
        resolved += [i for i in m.changed if i.service is None]
    assert engine.open_shared == {}
    assert resolved and resolved[0].resolved_at == minute(4)


def test_one_service_alone_is_not_a_cdn_problem() -> None:
    engine = FusionEngine()
    for n in range(5):
        m = step(engine, n, {"chatgpt": "edge", "tokopedia": "edge"})
    assert engine.open_shared == {}
    assert m.incidents["chatgpt"].shared_id is None
