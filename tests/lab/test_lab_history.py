"""The quiet past a demo starts from: scored like the detector job would, no alarm in it."""

from __future__ import annotations

from datetime import timedelta

from pantau.detect.counts import CountConfig
from pantau.detect.job import CrowdScorer
from pantau.lab import load_scenario
from pantau.lab.history import history_minutes, working_minutes
from pantau.signals import CrowdState, Layer, ServiceState


def test_history_covers_every_minute_before_the_scenario_quietly() -> None:
    scenario = load_scenario("chatgpt-2025-01-23")
    minutes = history_minutes(scenario, 1, CrowdScorer(CountConfig()))
    slugs = {s.slug for s in scenario.services}
    assert {m.service for m in minutes} == slugs
    assert len(minutes) == 1440 * len(slugs)
    assert min(m.minute for m in minutes) == scenario.start - timedelta(days=1)
    assert max(m.minute for m in minutes) == scenario.start - timedelta(minutes=1)
    assert not any(m.alarm for m in minutes)
    assert all(m.state is CrowdState.NORMAL for m in minutes[-60 * len(slugs) :])
    chatgpt = [m for m in minutes if m.service == "chatgpt"]
    # The simulated crowd reported, and by the end the detector expects about its rate.
    reported = sum(m.reporters for m in chatgpt)
    assert reported > 50
    assert all(m.expected > 0 for m in chatgpt[-60:])
    assert all(sum(m.categories.values()) == m.reporters for m in chatgpt)

    # The same minutes as fusion stores them: what the page's chart draws.
    fused = working_minutes(minutes)
    assert set(fused) == slugs
    rows = fused["chatgpt"]
    assert [r.at for r in rows] == [m.minute for m in chatgpt]
    assert all((r.state, r.layer) == (ServiceState.OPERATIONAL, Layer.NONE) for r in rows)
    assert [(r.reporters, r.expected) for r in rows] == [(m.reporters, m.expected) for m in chatgpt]
