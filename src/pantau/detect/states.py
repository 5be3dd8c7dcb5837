"""normal / possible / detected with hysteresis, and one alarm at onset.

Shared by every detector: it only sees the surprise (-log10 p) of each step.
Entering `detected` raises the alarm once; the state stays `detected` until the
surprise has stayed below `clear_at` for `clear_after` steps, so a surge that
flickers does not raise a second alarm. That hysteresis is also the detector's
suppression after an alarm.
"""

from __future__ import annotations

from dataclasses import dataclass

from pantau.signals import CrowdState


@dataclass(frozen=True, slots=True)
class Thresholds:
    possible_at: float
    detect_at: float
    clear_at: float
    clear_after: int

    def __post_init__(self) -> None:
        if not self.clear_at <= self.possible_at <= self.detect_at:
            raise ValueError("need clear_at <= possible_at <= detect_at")
        if self.clear_after < 1:
            raise ValueError("clear_after must be at least 1")


@dataclass(slots=True)
class Hysteresis:
    thresholds: Thresholds
    state: CrowdState = CrowdState.NORMAL
    quiet_steps: int = 0

    def step(self, level: float, may_detect: bool = True) -> tuple[CrowdState, bool]:
        """Advance one step with surprise `level`; returns (state, alarm raised now).

        `may_detect` lets a caller veto detection (e.g. too few distinct networks);
        the state then rises at most to `possible`.
        """
        t = self.thresholds
        alarm = False
        if self.state is CrowdState.DETECTED:
            self.quiet_steps = self.quiet_steps + 1 if level < t.clear_at else 0
            if self.quiet_steps >= t.clear_after:
                self.state, self.quiet_steps = CrowdState.NORMAL, 0
            return self.state, False
        if level >= t.detect_at and may_detect:
            self.state, self.quiet_steps, alarm = CrowdState.DETECTED, 0, True
        elif level >= t.possible_at:
            self.state = CrowdState.POSSIBLE
            self.quiet_steps = 0
        elif self.state is CrowdState.POSSIBLE and level < t.clear_at:
            self.state = CrowdState.NORMAL
        return self.state, alarm

