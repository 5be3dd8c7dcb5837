"""The simulated crowd is deterministic, rhythmic, surges with outages, and floods."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from pantau.lab import generate_reports, load_scenario
from pantau.lab.crowd import rhythm


def test_same_seed_same_stream_and_windows_compose() -> None:
    scenario = load_scenario("chatgpt-2025-01-23")
    first = list(generate_reports(scenario))
    assert first == list(generate_reports(scenario))
    assert first != list(generate_reports(scenario, seed=scenario.seed + 1))
    half = timedelta(minutes=47, seconds=30)
    split = list(generate_reports(scenario, end=half)) + list(
        generate_reports(scenario, start=half)
    )
    assert split == first
    assert [r.at for r in first] == sorted(r.at for r in first)


def test_surge_is_about_eighty_times_the_evening_baseline() -> None:
    scenario = load_scenario("chatgpt-2025-01-23")
    # A long quiet history before the incident, as a detector would have.
    history = [r for r in generate_reports(scenario, start=timedelta(days=-7), end=timedelta(0))
               if r.service == "chatgpt"]
    evening = [r for r in history if (r.at.hour + 7) % 24 in (18, 19)]
    per_minute_baseline = len(evening) / (7 * 120)
    surge = [r for r in generate_reports(scenario, start=timedelta(minutes=40),
                                         end=timedelta(minutes=50)) if r.service == "chatgpt"]
    ratio = len(surge) / 10 / per_minute_baseline
    assert 50 <= ratio <= 110, ratio
    assert len({r.client_id for r in surge}) == len(surge)
    assert len({r.network for r in surge}) > len(surge) * 0.9
    assert Counter(r.text for r in surge)["502 Bad Gateway"] > 0


def test_daily_and_weekly_rhythm() -> None:
    scenario = load_scenario("chatgpt-2025-01-23")
    peak = scenario.start.replace(hour=13)  # 20:00 WIB on a Thursday
    night = scenario.start.replace(hour=21)  # 04:00 WIB
    assert rhythm(peak, 7) == 1.0
    assert rhythm(night, 7) < 0.2
    saturday = peak + timedelta(days=2)
    assert rhythm(saturday, 7) < rhythm(peak, 7)


def test_login_category_and_abuse_flood() -> None:
    scenario = load_scenario("login-broken")
    window = list(generate_reports(scenario, start=timedelta(minutes=20),
                                   end=timedelta(minutes=40)))
    vidio = Counter(r.category for r in window if r.service == "vidio" and not r.abuse)
    assert vidio["login"] > 0.7 * sum(vidio.values())
    flood = [r for r in window if r.abuse]
    assert {r.service for r in flood} == {"spotify"}
    assert len(flood) > 600
    assert len({r.client_id for r in flood}) <= 3
    assert len({r.network for r in flood}) == 1
    honest = [r for r in window if not r.abuse]
    assert not {r.network for r in flood} & {r.network for r in honest}
