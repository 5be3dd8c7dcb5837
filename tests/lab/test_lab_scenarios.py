"""Scenario files validate, fold into states, and name their errors precisely."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from pantau.lab import (
    DnsMode,
    EdgeMode,
    OriginMode,
    ScenarioError,
    load_scenario,
    parse_scenario,
    shipped_scenarios,
    state_at,
)
from pantau.signals import Layer, ServiceState

REQUIRED = {
    "chatgpt-2025-01-23", "cloudflare-2025-11-18", "facebook-2021-10-04", "fastly-2021-06-08",
    "planned-maintenance", "isp-outage", "login-broken",
}


def test_shipped_scenarios_load_and_have_checkpoints() -> None:
    assert set(shipped_scenarios()) >= REQUIRED
    for name in shipped_scenarios():
        scenario = load_scenario(name)
        assert scenario.name == name
        assert scenario.checkpoints
        assert all(isinstance(c.layer, Layer) for c in scenario.checkpoints)
        # A default time scale that shows the whole incident in about two minutes.
        assert 60 <= scenario.duration.total_seconds() / scenario.speed <= 180


def test_chatgpt_timeline() -> None:
    scenario = load_scenario("chatgpt-2025-01-23")
    # The timeline is a pure fold: the same file gives the same states.
    assert state_at(scenario, timedelta(minutes=70)) == state_at(
        load_scenario("chatgpt-2025-01-23"), timedelta(minutes=70))
    assert scenario.at(timedelta(minutes=33)).isoformat() == "2025-01-23T11:33:00+00:00"
    assert state_at(scenario, timedelta(minutes=32)).origin["chatgpt"] is OriginMode.HEALTHY
    during = state_at(scenario, timedelta(minutes=45))
    assert during.origin["chatgpt"] is OriginMode.HTTP_502
    assert during.crowd["chatgpt"].factor >= 50
    assert during.pages["chatgpt"].incidents == []
    posted = state_at(scenario, timedelta(minutes=48))
    [incident] = posted.pages["chatgpt"].incidents
    assert incident.status == "investigating"
    assert incident.created_at - scenario.at(timedelta(minutes=33)) == timedelta(minutes=15)
    after = state_at(scenario, timedelta(minutes=83))
    assert after.origin["chatgpt"] is OriginMode.HEALTHY
    assert state_at(scenario, scenario.duration).pages["chatgpt"].incidents[0].closed
    outage = [c for c in scenario.checkpoints if c.service == "chatgpt"
              and c.state is ServiceState.OUTAGE]
    assert outage and all(c.layer is Layer.ORIGIN for c in outage)


def test_other_scenarios_fault_the_right_layer() -> None:
    cloudflare = load_scenario("cloudflare-2025-11-18")
    state = state_at(cloudflare, timedelta(minutes=40))
    assert sum(mode is EdgeMode.ERROR for mode in state.edge.values()) >= 4
    facebook = load_scenario("facebook-2021-10-04")
    state = state_at(facebook, timedelta(hours=3))
    assert state.dns["whatsapp"] is DnsMode.SERVFAIL
    assert state_at(facebook, timedelta(hours=6, minutes=10)).dns["whatsapp"] is DnsMode.OK
    isp = load_scenario("isp-outage")
    assert state_at(isp, timedelta(minutes=40)).cut == {"surabaya"}
    assert state_at(isp, timedelta(minutes=40)).origin["whatsapp"] is OriginMode.HEALTHY
    login = load_scenario("login-broken")
    assert state_at(login, timedelta(minutes=30)).origin["vidio"] is OriginMode.LOGIN_BROKEN
    assert "spotify" in state_at(login, timedelta(minutes=30)).abuse


BASE = """
name: broken
start: 2025-01-01T00:00:00Z
duration: 1h
services: [{slug: a, name: A}]
"""


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("timeline: [{at: 5m, service: a, origin: melting}]",
         "timeline[0].origin: Input should be"),
        ("timeline: [{at: 5m, service: b, origin: hang}]",
         "timeline[0].service: unknown service 'b'"),
        ("timeline: [{at: 2h, service: a, origin: hang}]", "timeline[0].at: outside 0..duration"),
        ("timeline: [{at: 5m, service: a}]", "timeline[0]: an event needs exactly one of"),
        ("timeline: [{at: 5m, service: a, status: {incident: x, status: resolved}}]",
         "timeline[0].status.title: a new incident needs a title"),
        ("checkpoints: [{at: 5m, service: a, state: outage, layer: cosmic}]",
         "checkpoints[0].layer: Input should be"),
        ("timeline: [{at: 5m, cut: true}]", "'cut' needs a 'vantage'"),
    ],
)
def test_errors_name_file_entry_and_field(extra: str, message: str) -> None:
    with pytest.raises(ScenarioError) as err:
        parse_scenario(BASE + extra, "mine.yaml")
    assert str(err.value).startswith("mine.yaml: ")
    assert message in str(err.value)


def test_load_by_path_and_unknown_name(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(BASE + "timeline: [{at: 90, service: a, dns: servfail}]\n")
    scenario = load_scenario(path)
    assert scenario.timeline[0].at == timedelta(seconds=90)
    with pytest.raises(ScenarioError, match="no scenario named 'nope'"):
        load_scenario("nope")
    with pytest.raises(ScenarioError, match=r"missing\.yaml"):
        load_scenario(tmp_path / "missing.yaml")
