"""The normal report level of one service for each time of day and day of week.

expected(t) = daily_shape[slot of day] × weekday_factor[day of week]. The daily
shape is learnt from every day, so it is usable after a day or two; the weekday
factors need weeks and start at 1. All are exponentially weighted means. A slot
with little evidence is shrunk towards the service's overall recent level, which
itself starts from a prior rate: a new service starts from a sensible level and
moves to its own shape as data arrives. `doubt` says how uncertain the estimate
still is, so the detector can widen its tails while the baseline is young.

Robust to past outages: the caller only feeds minutes that were not anomalous,
and each minute's contribution is capped near the expected level, so an outage
that slipped through (or a slow build-up) cannot drag the baseline up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

SLOT_MINUTES = 15
SLOTS_PER_DAY = 24 * 60 // SLOT_MINUTES


@dataclass(frozen=True, slots=True)
class BaselineConfig:
    prior_rate: float = 0.2
    """Reports per minute assumed for a service never seen before."""
    prior_minutes: float = 1.0
    """How many minutes of evidence the prior rate is worth: it only has to carry
    the first minutes, after which `doubt` keeps a young baseline cautious."""
    shrink_minutes: float = 5.0
    """How many minutes of the overall level a slot's own estimate starts from."""
    memory_days: float = 7.0
    """Roughly how many days each slot remembers."""
    cap_sigmas: float = 4.0


@dataclass(slots=True)
class _Mean:
    """An exponentially weighted mean with a prior worth `weight` observations."""

    total: float
    weight: float

    def add(self, value: float, decay: float) -> None:
        self.total = self.total * decay + value
        self.weight = self.weight * decay + 1.0

    def add_ratio(self, numerator: float, denominator: float, decay: float) -> None:
        self.total = self.total * decay + numerator
        self.weight = self.weight * decay + denominator

    @property
    def value(self) -> float:
        return self.total / self.weight


SHAPE_DOUBT = 0.5
WEEKDAY_MEMORY_MINUTES = 4 * 24 * 60
"""Each weekday factor remembers about its last four weeks."""
LEVEL_MEMORY_MINUTES = 24 * 60


@dataclass(slots=True)
class SeasonalBaseline:
    config: BaselineConfig = field(default_factory=BaselineConfig)
    _slots: list[_Mean] = field(init=False)
    _weekdays: list[_Mean] = field(init=False)
    _level: _Mean = field(init=False)

    def __post_init__(self) -> None:
        c = self.config
        self._slots = [_Mean(0.0, 0.0) for _ in range(SLOTS_PER_DAY)]
        # Weekday factor = (reports that day) / (what the daily shape predicted), as a
        # ratio of weighted sums, not a mean of per-minute ratios: minute ratios of
        # small counts are noisy and biased while the shape is still young.
        self._weekdays = [_Mean(60.0, 60.0) for _ in range(7)]
        self._level = _Mean(c.prior_rate * c.prior_minutes, c.prior_minutes)

    def _shape(self, slot: int) -> float:
        s, k = self._slots[slot], self.config.shrink_minutes
        return (s.total + k * self._level.value) / (s.weight + k)

    def _blend(self, minute: datetime) -> tuple[float, float]:
        """The daily shape at this minute, interpolated between neighbouring slot
        centres so the level has no steps, and how far the interpolation moved it
        from this slot's own level, relative to the result."""
        slot, _ = _position(minute)
        offset = (minute.minute % SLOT_MINUTES + 0.5) / SLOT_MINUTES - 0.5
        neighbour = (slot + (1 if offset >= 0 else -1)) % SLOTS_PER_DAY
        w = abs(offset)
        here, there = self._shape(slot), self._shape(neighbour)
        shape = (1 - w) * here + w * there
        return shape, w * abs(there - here) / max(shape, 1e-9)

    def expected(self, minute: datetime) -> float:
        _, day = _position(minute)
        shape, _ = self._blend(minute)
        # Factors are relative to the average day; shape × factor is all that matters,
        # so keeping their mean at 1 stops the two drifting against each other.
        mean_factor = sum(w.value for w in self._weekdays) / 7
        return max(1e-3, shape * self._weekdays[day].value / mean_factor)

    def doubt(self, minute: datetime) -> float:
        """Extra relative variance of the expected level for this minute.

        Three parts: a level that rests on few reports (the Gamma posterior of a
        rate estimated from n reports has relative variance 1/n); a time of day not
        seen yet, whose level is borrowed from the overall one although daily
        rhythms differ several-fold (taken as a relative spread of about 70 %); and
        the interpolation between slots, which can be far off where the rhythm
        turns sharply (a service whose evening ends at midnight), so its doubt is
        as large as the step it bridged.
        """
        slot, _ = _position(minute)
        s, k = self._slots[slot], self.config.shrink_minutes
        evidence = s.total + k * self._level.value
        # The borrowed part's error enters the estimate scaled by its weight, so its
        # variance by the square: all of it for a new slot, next to none once a slot
        # has weeks of its own data (whose error the learnt dispersion measures).
        borrowed = k / (s.weight + k)
        _, moved = self._blend(minute)
        return 1.0 / (1.0 + evidence) + SHAPE_DOUBT * borrowed * borrowed + moved * moved

    def unseen(self, minute: datetime) -> bool:
        """Whether this time of day has less than half a day's minutes of its own: its
        level is still mostly borrowed, so nothing seen there can yet be told abnormal."""
        slot, _ = _position(minute)
        return self._slots[slot].weight < SLOT_MINUTES / 2

    def learn(self, minute: datetime, count: float, *, first_seen: bool = False) -> None:
        """Fold a normal minute in; counts far above expected are capped first.

        The cap is `cap_sigmas` Poisson standard deviations above the level. A minute
        at a time of day `unseen` yet that the caller learns although it looked
        abnormal (`first_seen`) is capped in standard deviations of what the level
        allows, its own doubt included, so a borrowed level that may be several-fold
        off can reach the real one within its first quarter hour; and it moves this
        time of day alone, not the overall level other unseen times borrow, nor the
        weekday factors.
        """
        c = self.config
        slot, day = _position(minute)
        expected = self.expected(minute)
        variance = expected + (self.doubt(minute) * expected * expected if first_seen else 0.0)
        capped = min(count, expected + c.cap_sigmas * math.sqrt(variance) + 1.0)
        factor = self._weekdays[day].value / (sum(w.value for w in self._weekdays) / 7)
        self._slots[slot].add(capped / factor, 1.0 - 1.0 / (SLOT_MINUTES * c.memory_days))
        if first_seen:
            return
        self._level.add(capped / factor, 1.0 - 1.0 / LEVEL_MEMORY_MINUTES)
        # Weekday factors only learn once the daily shape rests on two days of data;
        # before that every ratio would mostly measure the shape's own error.
        if self._slots[slot].weight >= 2 * SLOT_MINUTES:
            self._weekdays[day].add_ratio(
                capped, self._shape(slot), 1.0 - 1.0 / WEEKDAY_MEMORY_MINUTES
            )


def _position(minute: datetime) -> tuple[int, int]:
    return (minute.hour * 60 + minute.minute) // SLOT_MINUTES, minute.weekday()
