from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pantau.probes.debounce import MonitorState, MonitorStatus, Thresholds, advance
from pantau.signals import Layer, ProbeVerdict

T0 = datetime(2025, 1, 23, 12, 0, tzinfo=UTC)


def run(pattern: str, thresholds: Thresholds) -> list[MonitorStatus]:
    """`pattern` of o (ok), x (fail), u (unreliable fail) -> the state after each."""
    state: MonitorState | None = None
    seen = []
    for i, c in enumerate(pattern):
        v = ProbeVerdict(service="s", monitor="m", vantage="v", at=T0 + timedelta(minutes=i),
                         ok=c == "o", layer=Layer.NONE if c == "o" else Layer.NETWORK,
                         cause="ok" if c == "o" else "connect_timeout", reliable=c != "u")
        state = advance(state, v, thresholds)
        seen.append(state.state)
    return seen


U, UP, DOWN = MonitorStatus.UNKNOWN, MonitorStatus.UP, MonitorStatus.DOWN


def test_down_needs_consecutive_failures_and_up_needs_consecutive_successes() -> None:
    assert run("ooxxoxxxoo", Thresholds(failures=3, successes=2)) == [
        U, UP, UP, UP, UP, UP, UP, DOWN, DOWN, UP]


def test_unreliable_results_do_not_move_the_state() -> None:
    assert run("oouuuuuo", Thresholds(failures=2, successes=2)) == [U, UP, UP, UP, UP, UP, UP, UP]


def test_thresholds_of_one_follow_every_result() -> None:
    assert run("oxo", Thresholds(failures=1, successes=1)) == [UP, DOWN, UP]


def test_thresholds_must_be_positive() -> None:
    with pytest.raises(ValueError):
        Thresholds(failures=0)
