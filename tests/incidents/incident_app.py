"""A running app with fused data in it, for the API, page and browser tests."""

from __future__ import annotations

from typing import Any

from incident_factories import cf_502, crowd, minute, official

from pantau.catalog import Catalog
from pantau.clock import FrozenClock
from pantau.incidents.engine import FusionEngine, ServiceInput
from pantau.runtime import Runtime
from pantau.settings import load_settings
from pantau.signals import CrowdState, OfficialIncident
from pantau.store import Store


def runtime(url: str, clock: FrozenClock, catalog: Catalog | None = None) -> Runtime:
    store = Store(url)
    store.migrate()
    return Runtime(settings=load_settings(database=url), store=store,
                   catalog=catalog or Catalog.default(), clock=clock)


async def chatgpt_outage(store: Any, minutes: int = 6) -> FusionEngine:
    """ChatGPT behind Cloudflare failing with 502s from minute 3, the crowd up in arms."""
    engine = FusionEngine()
    said = OfficialIncident(id="inc-1", title="Elevated errors on ChatGPT",
                            status="investigating", created_at=minute(5), updated_at=minute(5))
    for n in range(minutes):
        at = minute(n)
        bad = n >= 3
        c = crowd(at, CrowdState.DETECTED if bad else CrowdState.NORMAL, 60 if bad else 2,
                  alarm=n == 3, categories={"website": 40, "app": 12, "login": 8} if bad
                  else {"website": 2}, regions={"ID-JK": 30, "ID-JI": 20, "ID-BA": 10}
                  if bad else {}, texts={"Bad gateway Error code 502": 25} if bad else {})
        off = official(at, incidents=(said,) if n >= 5 else ())
        si = ServiceInput("chatgpt", "ChatGPT", "cloudflare", c,
                          cf_502(at) if bad else cf_502(at, failing=0), off)
        m = engine.step(at, [si])
        await store.save_fusion(at, list(m.assessments.values()), dict(m.incidents),
                                m.changed, m.events)
    return engine
