"""Debouncing: a monitor is called down only after several failures in a row, and up
again only after several successes (as Gatus does), so one lost packet is not an outage.

Results from an unreliable vantage point (itself cut off) do not move the state.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from pantau.signals import ProbeVerdict


class MonitorStatus(StrEnum):
    UNKNOWN = "unknown"
    UP = "up"
    DOWN = "down"


@dataclass(frozen=True, slots=True)
class Thresholds:
    failures: int = 3
    successes: int = 2

    def __post_init__(self) -> None:
        if self.failures < 1 or self.successes < 1:
            raise ValueError("thresholds must be at least 1")


@dataclass(frozen=True, slots=True)
class MonitorState:
    monitor: str
    vantage: str
    service: str
    state: MonitorStatus
    since: datetime
    failures: int
    successes: int
    last_at: datetime
    last_layer: str
    last_cause: str

    @classmethod
    def first(cls, verdict: ProbeVerdict) -> MonitorState:
        return cls(monitor=verdict.monitor, vantage=verdict.vantage, service=verdict.service,
                   state=MonitorStatus.UNKNOWN, since=verdict.at, failures=0, successes=0,
                   last_at=verdict.at, last_layer=verdict.layer.value,
                   last_cause=verdict.cause)


def advance(
    state: MonitorState | None, verdict: ProbeVerdict, thresholds: Thresholds
) -> MonitorState:
    """The monitor's state after one more result."""
    current = state or MonitorState.first(verdict)
    if not verdict.reliable:
        return current
    failures = 0 if verdict.ok else current.failures + 1
    successes = current.successes + 1 if verdict.ok else 0
    status = current.state
    if verdict.ok and successes >= thresholds.successes:
        status = MonitorStatus.UP
    elif not verdict.ok and failures >= thresholds.failures:
        status = MonitorStatus.DOWN
    return replace(
        current,
        state=status,
        since=verdict.at if status is not current.state else current.since,
        failures=failures,
        successes=successes,
        last_at=verdict.at,
        last_layer=verdict.layer.value,
        last_cause=verdict.cause,
    )
