"""Fusion output written to and read back from SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta, timezone

from incident_factories import all_ok, cf_502, crowd, minute

from pantau.incidents.engine import FusionEngine, Minute, ServiceInput
from pantau.incidents.model import EventKind
from pantau.signals import CrowdState, Layer, ServiceState
from pantau.store import Store
from pantau.store.incidents import MinuteRow


def inputs(n: int, bad: bool) -> list[ServiceInput]:
    out = []
    for slug, name in (("chatgpt", "ChatGPT"), ("discord", "Discord")):
        at = minute(n)
        probes = cf_502(at, service=slug) if bad else all_ok(at, service=slug)
        c = crowd(at, CrowdState.DETECTED if bad else CrowdState.NORMAL, service=slug)
        out.append(ServiceInput(slug, name, "cloudflare", c, probes, None))
    return out


async def save(store: Store, m: Minute) -> None:
    await store.save_fusion(m.at, list(m.assessments.values()), dict(m.incidents), m.changed,
                            m.events)


async def test_minutes_round_trip(store: Store) -> None:
    engine = FusionEngine()
    for n in range(0, 3):
        await save(store, engine.step(minute(n), inputs(n, True)))
    state = await store.service_state("chatgpt")
    assert state is not None
    a, inc = state
    assert (a.state, a.layer) == (ServiceState.OUTAGE, Layer.ORIGIN)
    assert inc is not None and inc.id == "chatgpt-20250123-1130" and inc.shared_id
    assert {b.vantage for b in a.boxes} == {"jakarta", "singapore", "frankfurt", "virginia"}
    shared = await store.incident(inc.shared_id)
    assert shared is not None and shared.members == ("chatgpt", "discord")
    assert [i.id for i in await store.recent_incidents(service="chatgpt")] == [
        "chatgpt-20250123-1130", "shared-cloudflare-20250123-1130"]
    assert len(await store.open_incidents()) == 3
    events = await store.incident_events(inc.id)
    assert [e.event.kind for e in events] == [EventKind.OPENED]
    for n in range(3, 9):
        await save(store, engine.step(minute(n), inputs(n, False)))
    assert await store.open_incidents() == []
    assert await store.past_durations("chatgpt", Layer.ORIGIN) == [3]
    assert await store.past_durations("chatgpt", Layer.ORIGIN, before=minute(3)) == []
    states = await store.service_states()
    assert states["discord"].state is ServiceState.OPERATIONAL
    later = await store.incident_events(inc.id, after_id=events[-1].id)
    assert [e.event.kind for e in later] == [EventKind.RESOLVED]


async def test_service_minutes_feed_the_chart(store: Store) -> None:
    engine = FusionEngine()
    for n in range(0, 4):
        await save(store, engine.step(minute(n), inputs(n, n >= 2)))
    rows = await store.service_minutes("chatgpt", minute(1))
    assert [r.at for r in rows] == [minute(1), minute(2), minute(3)]
    assert [r.state for r in rows] == [ServiceState.OPERATIONAL, ServiceState.OUTAGE,
                                       ServiceState.OUTAGE]
    assert rows[0].reporters == 2 and rows[0].expected == 3.0
    await store.prune_service_minutes(minute(3))
    assert [r.at for r in await store.service_minutes("chatgpt", minute(0))] == [minute(3)]


async def test_incidents_before_a_time_given_in_another_zone(store: Store) -> None:
    # Incidents start at 11:30 and 11:50 UTC; "before 18:40 WIB" is before 11:40 UTC.
    engine = FusionEngine()
    for n in range(0, 40):
        await save(store, engine.step(minute(n), inputs(n, n < 3 or 20 <= n < 23)))
    started = sorted(i.started_at for i in await store.recent_incidents(service="chatgpt"))
    assert started[0] == minute(0) and started[-1] == minute(20)
    wib = timezone(timedelta(hours=7))
    before = (minute(0) + timedelta(minutes=10)).astimezone(wib)
    found = await store.recent_incidents(service="chatgpt", before=before)
    assert [i.started_at for i in found if i.service == "chatgpt"] == [minute(0)]


async def test_a_past_fusion_did_not_see_is_added_before_it(store: Store) -> None:
    engine = FusionEngine()
    await save(store, engine.step(minute(0), inputs(0, False)))
    past = [MinuteRow(minute(k), ServiceState.OPERATIONAL, Layer.NONE, k, 1.5,
                      {"app": k}, {"ID-JK": k}, {"502": k}) for k in range(-3, 0)]
    await store.add_service_minutes("chatgpt", past)
    rows = await store.service_minutes("chatgpt", minute(-10), crowd=True)
    assert [r.at for r in rows] == [minute(k) for k in range(-3, 1)]
    assert rows[:3] == past
    await store.add_service_minutes("chatgpt", [])
