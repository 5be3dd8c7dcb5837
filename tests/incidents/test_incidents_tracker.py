"""Incident lifecycle over minutes: debounced opening, updates, official news, recovery."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from incident_factories import all_ok, cf_502, crowd, minute, official

from pantau.incidents.advice import advise
from pantau.incidents.engine import FusionEngine, Minute, ServiceInput
from pantau.incidents.model import EventKind
from pantau.incidents.verdict import verdict
from pantau.signals import CrowdState, Layer, OfficialIncident, OfficialStatus, ServiceState

WIB = ZoneInfo("Asia/Jakarta")


def run(engine: FusionEngine, n: int, probes: bool, crowd_state: CrowdState = CrowdState.NORMAL,
        alarm: bool = False, off: OfficialStatus | None = None) -> Minute:
    now = minute(n)
    si = ServiceInput(
        "chatgpt", "ChatGPT", "cloudflare",
        crowd(now, crowd_state, 80 if crowd_state is not CrowdState.NORMAL else 2, alarm),
        cf_502(now) if probes else all_ok(now),
        off if off is not None else official(now),
    )
    return engine.step(now, [si])


def test_probes_alone_open_after_two_minutes_and_resolve_after_five() -> None:
    engine = FusionEngine()
    m = run(engine, 0, True)
    assert m.assessments["chatgpt"].state is ServiceState.OUTAGE
    assert m.incidents == {}
    m = run(engine, 1, True)
    inc = m.incidents["chatgpt"]
    assert inc.id == "chatgpt-20250123-1130" and inc.started_at == minute(0)
    assert [e.kind for e in m.events] == [EventKind.OPENED]
    for n in range(2, 6):
        run(engine, n, n < 3)
    assert engine.trackings["chatgpt"].incident is not None  # flapping does not resolve
    run(engine, 6, False)
    m = run(engine, 7, False)
    done = m.incidents["chatgpt"]
    assert done.resolved_at == minute(3)
    assert done.duration_minutes(minute(99)) == 3
    assert engine.trackings["chatgpt"].incident is None


def test_one_bad_minute_never_opens() -> None:
    engine = FusionEngine()
    run(engine, 0, True)
    m = run(engine, 1, False)
    assert m.incidents == {} and m.events == ()


def test_crowd_alarm_opens_at_once() -> None:
    engine = FusionEngine()
    m = run(engine, 0, False, CrowdState.DETECTED, alarm=True)
    inc = m.incidents["chatgpt"]
    assert inc.state is ServiceState.DEGRADED and inc.layer is Layer.APP


def test_state_change_and_official_acknowledgement_are_events() -> None:
    engine = FusionEngine()
    run(engine, 0, False, CrowdState.DETECTED, alarm=True)
    m = run(engine, 1, True, CrowdState.DETECTED)
    assert [e.kind for e in m.events] == [EventKind.STATE]
    said = OfficialIncident(id="x1", title="Elevated errors on ChatGPT", status="investigating",
                            created_at=minute(23), updated_at=minute(23))
    m = run(engine, 25, True, CrowdState.DETECTED, off=official(minute(25), incidents=(said,)))
    ev = m.events
    assert [e.kind for e in ev] == [EventKind.OFFICIAL]
    assert "23 minutes after" in ev[0].text.en
    assert "(sedang diselidiki)" in ev[0].text.id  # the vendor's status, in Indonesian
    inc = m.incidents["chatgpt"]
    assert inc.worst_state is ServiceState.OUTAGE and inc.official_ack_at == minute(23)
    # The same official update next minute is not news.
    m = run(engine, 26, True, CrowdState.DETECTED, off=official(minute(26), incidents=(said,)))
    assert m.events == ()


def test_a_resolved_incident_is_told_by_its_worst_not_its_tail() -> None:
    # The origin fails behind Cloudflare for five minutes; then the probes are well again
    # while people still report for five more (the demo's ChatGPT outage ends so).
    engine = FusionEngine()
    for n in range(5):
        run(engine, n, True, CrowdState.DETECTED, alarm=n == 0)
    tail = [run(engine, n, False, CrowdState.DETECTED) for n in range(5, 10)]
    # One event when the state eases, not one each minute of the tail.
    assert [e.kind for m in tail for e in m.events] == [EventKind.STATE]
    live = tail[-1].incidents["chatgpt"]
    assert live.state is ServiceState.DEGRADED and live.worst_state is ServiceState.OUTAGE
    for n in range(10, 15):
        m = run(engine, n, False)
    done = m.incidents["chatgpt"]
    assert done.resolved_at == minute(10)
    assert (done.layer, done.scope.value) == (Layer.ORIGIN, "everyone")
    assert done.cause is not None and "Cloudflare" in done.cause.en
    assert any("Cloudflare 502" in e.en for e in done.evidence)
    assert done.title.en == "ChatGPT outage"


def test_verdict_sentence_in_both_languages() -> None:
    engine = FusionEngine()
    for n in range(3, 5):
        m = run(engine, n, True, CrowdState.DETECTED, alarm=n == 3)
    a = m.assessments["chatgpt"]
    inc = m.incidents["chatgpt"]
    v = verdict(a, inc, official(minute(4)), [50, 30], "ChatGPT", WIB)
    assert v.en == ("ChatGPT is down for everyone since 18:33 WIB; the server behind "
                    "Cloudflare is not answering; it is not your connection; the last similar "
                    "outage lasted 50 minutes (2 similar ones: typically 40 minutes); the "
                    "official ChatGPT status page has not said anything yet.")
    assert v.id.startswith("ChatGPT sedang down untuk semua orang sejak 18.33 WIB; server di "
                           "balik Cloudflare tidak menjawab; ini bukan masalah koneksi Anda")
    utc = verdict(a, inc, None, [], "ChatGPT", ZoneInfo("UTC"))
    assert "since 11:33 UTC" in utc.en
    advice = advise(a, inc, official(minute(4)), [50], "ChatGPT", WIB)
    kinds = [x.kind for x in advice]
    assert kinds == ["wait", "follow_official"]
    assert "lasted 50 minutes" in advice[0].text.en
    assert advice[1].url == "https://status.example.test/"
    assert "belum menyebut" in advice[1].text.id
