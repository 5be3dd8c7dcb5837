"""Fusion of one minute: state, layer, scope and evidence for the hard cases."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from incident_factories import all_ok, cf_502, crowd, minute, official, probe

from pantau.incidents.advice import advise
from pantau.incidents.fuse import fuse
from pantau.incidents.model import Scope
from pantau.signals import (
    CrowdMinute,
    CrowdState,
    Layer,
    OfficialIncident,
    OfficialPageState,
    ServiceState,
)


def test_all_green_is_operational() -> None:
    now = minute(0)
    a = fuse("chatgpt", now, crowd(now), all_ok(now), official(now), "cloudflare")
    assert (a.state, a.layer, a.scope) == (ServiceState.OPERATIONAL, Layer.NONE, Scope.NONE)
    assert a.reliable_vantages == 4 and a.failing_vantages == 0


def test_no_data_is_unknown() -> None:
    a = fuse("chatgpt", minute(0), None, [], None, "cloudflare")
    assert a.state is ServiceState.UNKNOWN


def test_cloudflare_502_everywhere_is_origin_outage_with_evidence() -> None:
    now = minute(3)
    probes = cf_502(now)
    probes[0] = probe(now, "jakarta", ok=False, layer=Layer.NETWORK, status=None,
                      cause="connect_timeout")
    probes += [probe(now, v, ok=False, layer=Layer.ORIGIN, status=502, monitor="api")
               for v in ("singapore", "frankfurt", "virginia", "jakarta")]
    a = fuse("chatgpt", now, crowd(now, CrowdState.DETECTED, 80, alarm=True), probes, None,
             "cloudflare")
    assert (a.state, a.layer, a.scope) == (ServiceState.OUTAGE, Layer.ORIGIN, Scope.EVERYONE)
    assert a.cause is not None and "behind Cloudflare" in a.cause.en
    assert a.evidence[0].en.startswith("88 % of probe failures are Cloudflare 502 pages with "
                                       "the Host box in error")
    assert "di balik Cloudflare" in a.cause.id
    boxes = {b.vantage: b for b in a.boxes}
    assert boxes["singapore"].edge is True and boxes["singapore"].host is False
    assert a.crowd_alarm


def test_one_failing_vantage_is_noise() -> None:
    now = minute(0)
    a = fuse("chatgpt", now, crowd(now), cf_502(now, failing=1), None, "cloudflare")
    assert a.state is ServiceState.OPERATIONAL
    assert not a.probes_down


def test_unreliable_vantages_do_not_count() -> None:
    now = minute(0)
    probes = [probe(now, v, ok=False, layer=Layer.CLIENT, status=None, reliable=False)
              for v in ("jakarta", "singapore")]
    probes += [probe(now, v) for v in ("frankfurt", "virginia")]
    a = fuse("chatgpt", now, crowd(now), probes, None, "cloudflare")
    assert a.state is ServiceState.OPERATIONAL
    assert a.reliable_vantages == 2


def test_stale_probes_are_ignored() -> None:
    now = minute(10)
    a = fuse("chatgpt", now, None, cf_502(now - timedelta(minutes=8)), None, "cloudflare")
    assert a.state is ServiceState.UNKNOWN


def test_blocked_is_not_an_outage() -> None:
    now = minute(0)
    probes = [probe(now, v, ok=False, layer=Layer.BLOCKED, status=403) for v in
              ("jakarta", "singapore", "frankfurt", "virginia")]
    a = fuse("chatgpt", now, crowd(now), probes, None, "cloudflare")
    assert a.state is ServiceState.OPERATIONAL


def test_probes_green_crowd_red_login_only() -> None:
    now = minute(0)
    c = crowd(now, CrowdState.DETECTED, 40, categories={"login": 30, "website": 5, "app": 5})
    a = fuse("chatgpt", now, c, all_ok(now), None, "cloudflare")
    assert (a.state, a.layer, a.scope) == (ServiceState.DEGRADED, Layer.APP, Scope.PARTIAL)
    assert a.cause is not None and "logging in fails" in a.cause.en
    assert a.feature == "login"
    kinds = [x.kind for x in advise(a, None, None, [], "ChatGPT", ZoneInfo("Asia/Jakarta"))]
    assert kinds == ["wait", "stay_logged_in"]
    website = fuse("chatgpt", now, crowd(now, CrowdState.DETECTED, 40,
                                         categories={"website": 40}), all_ok(now), None)
    assert website.feature is None
    assert [x.kind for x in advise(website, None, None, [], "ChatGPT",
                                   ZoneInfo("Asia/Jakarta"))] == ["wait"]


def test_crowd_red_in_one_region_points_at_the_provider() -> None:
    now = minute(0)
    c = crowd(now, CrowdState.DETECTED, 30, regions={"Jawa Timur": 27, "Bali": 2})
    probes = cf_502(now, failing=1)
    probes[0] = probe(now, "jakarta", ok=False, layer=Layer.NETWORK, status=None)
    a = fuse("chatgpt", now, c, probes, None, "cloudflare")
    assert (a.state, a.layer, a.scope) == (ServiceState.OPERATIONAL, Layer.CLIENT, Scope.REGION)
    assert a.region == "Jawa Timur"


def test_official_maintenance_window_wins() -> None:
    now = minute(0)
    m = OfficialIncident(id="m1", title="Database upgrade", status="scheduled",
                         created_at=now - timedelta(days=1), updated_at=now,
                         is_maintenance=True, scheduled_for=now - timedelta(minutes=5),
                         scheduled_until=now + timedelta(hours=1))
    probes = [probe(now, v, ok=False, layer=Layer.MAINTENANCE, status=503)
              for v in ("jakarta", "singapore", "frankfurt", "virginia")]
    a = fuse("chatgpt", now, crowd(now, CrowdState.DETECTED, 20),
             probes, official(now, maintenance=(m,)), "cloudflare")
    assert (a.state, a.layer) == (ServiceState.MAINTENANCE, Layer.MAINTENANCE)


def test_maintenance_page_without_announcement() -> None:
    now = minute(0)
    probes = [probe(now, v, ok=False, layer=Layer.MAINTENANCE, status=503)
              for v in ("jakarta", "singapore", "frankfurt")]
    a = fuse("chatgpt", now, None, probes, official(now), "cloudflare")
    assert a.state is ServiceState.MAINTENANCE


def test_official_major_outage_alone() -> None:
    now = minute(0)
    a = fuse("chatgpt", now, crowd(now), all_ok(now),
             official(now, OfficialPageState.MAJOR_OUTAGE, description="Major outage"),
             "cloudflare")
    assert a.state is ServiceState.OUTAGE
    assert any("Major outage" in e.en for e in a.evidence)
    quiet = fuse("chatgpt", now, None, [], official(now, OfficialPageState.MAJOR_OUTAGE),
                 "cloudflare")
    assert quiet.evidence[-1].en == "the official status page says: major outage"
    assert quiet.evidence[-1].id == "halaman status resmi menyebut: gangguan besar"


def test_half_the_vantages_failing_is_an_outage_quarter_is_degraded() -> None:
    now = minute(0)
    probes = cf_502(now, failing=2) + [probe(now, v) for v in ("tokyo", "sydney", "sao-paulo",
                                                                 "london")]
    a = fuse("chatgpt", now, None, probes, None, "cloudflare")
    assert (a.state, a.scope) == (ServiceState.DEGRADED, Scope.PARTIAL)
    a = fuse("chatgpt", now, None, cf_502(now, failing=2), None, "cloudflare")
    assert a.state is ServiceState.OUTAGE


def test_edge_failure_names_the_cdn() -> None:
    now = minute(0)
    probes = [probe(now, v, ok=False, layer=Layer.EDGE, status=500)
              for v in ("jakarta", "singapore", "frankfurt", "virginia")]
    a = fuse("chatgpt", now, None, probes, None, "cloudflare")
    assert a.layer is Layer.EDGE
    assert a.cause is not None and a.cause.en == "Cloudflare itself is failing"
    assert all(b.edge is False for b in a.boxes)


def _amber(n: int, reporters: int, networks: int, distinct: int | None = None) -> CrowdMinute:
    """`networks` a minute, new ones each minute unless `distinct` says how many in ten."""
    return CrowdMinute(service="chatgpt", minute=minute(n), reporters=reporters,
                       networks=networks, networks_10m=distinct or 10 * networks,
                       expected=0.3, score=0.6, state=CrowdState.POSSIBLE,
                       categories={"login": reporters})


def test_lasting_amber_crowd_from_many_networks_is_a_login_problem() -> None:
    recent = [_amber(n, 3, 3) for n in range(12)]
    a = fuse("chatgpt", minute(12), _amber(12, 3, 3), all_ok(minute(12)), None, "cloudflare",
             crowd_recent=recent)
    assert (a.state, a.layer, a.scope) == (ServiceState.DEGRADED, Layer.APP, Scope.PARTIAL)
    # The same counts from one network a minute look like a flood: not an outage.
    flood = [_amber(n, 3, 1) for n in range(12)]
    a = fuse("chatgpt", minute(12), _amber(12, 3, 1), all_ok(minute(12)), None, "cloudflare",
             crowd_recent=flood)
    assert a.state is ServiceState.OPERATIONAL
    # Three networks a minute, but the same three every minute: a sum over minutes
    # would see as many networks as reporters; they are three.
    same = [_amber(n, 3, 3, distinct=3) for n in range(12)]
    a = fuse("chatgpt", minute(12), _amber(12, 3, 3, distinct=3), all_ok(minute(12)), None,
             "cloudflare", crowd_recent=same)
    assert a.state is ServiceState.OPERATIONAL
    # A short amber spell is not enough either.
    a = fuse("chatgpt", minute(12), _amber(12, 3, 3), all_ok(minute(12)), None, "cloudflare",
             crowd_recent=recent[-3:])
    assert a.state is ServiceState.OPERATIONAL
