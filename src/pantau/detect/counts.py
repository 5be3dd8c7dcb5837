"""Streaming detector for per-minute counts of distinct reporters (the crowd signal).

Each minute: the expected count comes from the seasonal baseline; the observed
sums over the last 1, 3, 10 and 30 minutes are tested against the expected sums
with a negative-binomial upper tail. A sharp surge shows in the 1-minute sum; a
gentle one (×2, ×3 on a quiet service) only in the longer sums. The dispersion
has two parts: the extra spread of this service's counts, learnt from normal
minutes, and the doubt of a baseline that rests on few reports (the Gamma-Poisson
posterior predictive) or on a time of day not seen yet, so a new service is
judged cautiously instead of not at all.

A detection also needs at least `min_networks` more distinct networks in the last
10 (or 30) minutes than the reporters expected then (plus their normal fluctuation):
the surplus itself must come from many networks. A flood from a handful of networks
(however many client ids it forges, however long it lasts) can push the state to
`possible`, never to `detected`.

This and `values.ValueDetector` share the same core: an observation reduced to an
upper-tail probability at several time scales, Bonferroni-corrected, turned into
a surprise level and fed to the same hysteresis state machine. Only the model of
"normal" differs: a seasonal count model here, an empirical distribution there.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from pantau.detect.baseline import BaselineConfig, SeasonalBaseline
from pantau.detect.states import Hysteresis, Thresholds
from pantau.detect.tails import MAX_SURPRISE, nb_upper, surprise
from pantau.signals import CrowdState

# From the false-alarm budget of one a service-month, not from a benchmark: a month
# has 43,200 minutes, so detection needs p <= 1/43,200 (10^-4.64) after the correction
# for four scales. Under the model at most one minute a month gets there, and fewer
# alarms, as such minutes come in runs that raise one alarm; what the model misses
# (the level's own doubt, the spread of the counts) is in its tails, learnt.
COUNT_THRESHOLDS = Thresholds(possible_at=3.0, detect_at=4.64, clear_at=2.0, clear_after=15)


DISPERSION_BLOCK = 30
"""Normal minutes summed for one dispersion estimate: the longest scale's length."""
DISPERSION_MEMORY_BLOCKS = 100.0
"""About how many well-filled blocks (two days of them) the dispersion remembers."""

NETWORK_WINDOWS = (10, 30)
"""Minutes over which distinct networks are counted for a detection. The short window
lets a sharp surge through within minutes; the long one lets a modest but lasting
surge on a small service gather enough networks. Counted as distinct networks, a
flood from a few networks stays a few networks however long the window."""


@dataclass(frozen=True, slots=True)
class CountConfig:
    scales: tuple[int, ...] = (1, 3, 10, 30)
    thresholds: Thresholds = COUNT_THRESHOLDS
    min_networks: int = 25
    learn_minutes: int = 15
    """No detection in a service's first minutes: its level is still a guess."""
    adapt_after_minutes: int = 6 * 60
    """An anomaly longer than this is taken as the new normal and learnt again (at
    the capped pace), so a service that grew for good is not "down" for ever."""
    dispersion_prior: float = 0.05
    dispersion_floor: float = 0.01
    baseline: BaselineConfig = field(default_factory=BaselineConfig)


@dataclass(frozen=True, slots=True)
class CountScore:
    minute: datetime
    observed: int
    expected: float
    surprise: float
    score: float
    state: CrowdState
    alarm: bool


@dataclass(slots=True)
class CountDetector:
    config: CountConfig = field(default_factory=CountConfig)
    baseline: SeasonalBaseline = field(init=False)
    _observed: deque[int] = field(init=False)
    _expected: deque[float] = field(init=False)
    _machine: Hysteresis = field(init=False)
    _dispersion: float = 0.0
    _block: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    """Observed, expected and minutes of the normal minutes gathered for the next
    dispersion update."""
    _seen: int = 0
    _abnormal_for: int = 0

    def __post_init__(self) -> None:
        horizon = max(*self.config.scales, *NETWORK_WINDOWS)
        self.baseline = SeasonalBaseline(self.config.baseline)
        self._observed = deque(maxlen=horizon)
        self._expected = deque(maxlen=horizon)
        self._machine = Hysteresis(self.config.thresholds)
        self._dispersion = self.config.dispersion_prior

    @property
    def state(self) -> CrowdState:
        return self._machine.state

    def update(self, minute: datetime, reporters: int, networks: Sequence[int]) -> CountScore:
        """Score one minute; minutes must be fed in order, gaps as zero counts.

        `networks[i]` is the number of distinct networks among the counted reports of
        the last NETWORK_WINDOWS[i] minutes, this one included (not a sum of
        per-minute counts: one network reporting every minute is still one network).
        """
        cfg = self.config
        expected = self.baseline.expected(minute)
        self._observed.append(reporters)
        self._expected.append(expected)
        self._seen += 1
        dispersion = max(cfg.dispersion_floor, self._dispersion) + self.baseline.doubt(minute)
        best = 1.0
        observed, expect = list(self._observed), list(self._expected)
        for k in cfg.scales:
            if k > len(observed):
                break
            best = min(best, nb_upper(sum(observed[-k:]), sum(expect[-k:]), dispersion))
        level = surprise(best * len(cfg.scales))
        # Beyond normal fluctuation too (3 Poisson sd), so background noise on top of
        # a flood's few networks does not make up the difference.
        surplus_networks = max(
            distinct - sum(expect[-w:]) - 3 * math.sqrt(sum(expect[-w:]))
            for w, distinct in zip(NETWORK_WINDOWS, networks, strict=True)
        )
        may_detect = self._seen > cfg.learn_minutes and surplus_networks >= cfg.min_networks
        state, alarm = self._machine.step(level, may_detect)
        self._abnormal_for = 0 if state is not CrowdState.DETECTED else self._abnormal_for + 1
        # Learn from every minute that is not part of a detected anomaly (capped in
        # the baseline). Skipping merely "surprising" minutes too would be a trap:
        # a rising edge the baseline has not learnt yet would stay unlearnt for ever.
        calm = state is not CrowdState.DETECTED
        if calm or self._seen <= cfg.learn_minutes or self._abnormal_for > cfg.adapt_after_minutes:
            self._learn(minute, reporters, expected)
        return CountScore(minute, reporters, expected, level, level / MAX_SURPRISE, state, alarm)

    def _learn(self, minute: datetime, count: int, expected: float) -> None:
        self.baseline.learn(minute, count)
        block = self._block
        block[0] += count
        block[1] += expected
        block[2] += 1
        if block[2] >= DISPERSION_BLOCK:
            self._learn_dispersion(block[0], block[1])
            self._block = [0.0, 0.0, 0.0]

    def _learn_dispersion(self, observed: float, expected: float) -> None:
        """Method of moments for Var = mu + d·mu², on sums of normal minutes.

        On sums, as the tails use it: the spread that persists over many minutes
        (a busy hour, a quiet one) is what makes a long window's sum surprising. A
        sum of many reports is also nearly symmetric, where single minutes of a
        small service are so skewed that clipping them biased d towards zero. The
        estimate of a block's d has variance about 2·(1/mu + d)², so blocks with
        few reports count for little. Clipped on both sides, so one strange block
        moves it at most a little either way."""
        excess = ((observed - expected) ** 2 - expected) / (expected * expected)
        prior = self.config.dispersion_prior
        weight = (prior / (1.0 / expected + prior)) ** 2 / DISPERSION_MEMORY_BLOCKS
        self._dispersion += weight * (min(max(excess, -1.0), 1.0) - self._dispersion)
