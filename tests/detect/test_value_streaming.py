"""The value detector is streaming and deterministic, and flags spikes, steps and
broken patterns."""

from __future__ import annotations

import math

import numpy as np

from pantau.detect.neighbours import NeighbourNovelty
from pantau.detect.tails import MAX_SURPRISE
from pantau.detect.values import ValueConfig, ValueDetector, ValueScore


def _run(values: np.ndarray, config: ValueConfig | None = None) -> list[ValueScore]:
    det = ValueDetector(config or ValueConfig(), learn=300, period=96)
    return [det.update(float(v)) for v in values]


def _daily(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    out: np.ndarray = 50 + 10 * np.sin(2 * math.pi * t / 96) + rng.normal(0, 1, n)
    return out


def test_a_score_never_depends_on_later_rows() -> None:
    base = _daily(1600, 5)
    other = base.copy()
    other[1200:] = np.random.default_rng(6).normal(500, 50, 400)  # a wild future
    a, b = _run(base), _run(other)
    assert a[:1200] == b[:1200]
    assert a[1200:] != b[1200:]


def test_the_same_series_scores_the_same_every_time() -> None:
    values = _daily(1200, 7)
    assert _run(values) == _run(values)


def test_a_spike_and_a_step_are_flagged_at_once() -> None:
    spiked = _daily(1600, 8)
    spiked[1300] += 25
    alarms = [i for i, s in enumerate(_run(spiked)) if s.alarm]
    assert alarms == [1300]
    stepped = _daily(1600, 9)
    stepped[1300:] += 15
    alarms = [i for i, s in enumerate(_run(stepped)) if s.alarm]
    assert alarms and 1300 <= alarms[0] <= 1303


def test_a_spike_seen_every_day_is_less_surprising_than_a_new_one() -> None:
    # No known period, so only the novelty of the shape can tell the two apart:
    # the same spike at the hour it has hit every day, or at a new hour.
    def last(phase: int) -> ValueScore:
        values = _daily(1700, 12)
        values[40:1500:96] += 25
        values[1536 + phase] += 25
        det = ValueDetector(ValueConfig(), learn=300)
        return [det.update(float(v)) for v in values][1536 + phase]

    usual, new = last(40), last(70)
    assert not usual.alarm and new.alarm
    assert usual.surprise < new.surprise - 1.0


def test_a_value_beyond_the_range_seen_so_far_alarms_at_once() -> None:
    values = np.random.default_rng(13).normal(0, 1, 2000)
    low, high = float(values.min()), float(values.max())

    def then(value: float, config: ValueConfig) -> ValueScore:
        det = ValueDetector(config, learn=300)
        for v in values:
            det.update(float(v))
        return det.update(value)

    beyond, inside = high + 0.06 * (high - low), high + 0.04 * (high - low)
    out = then(beyond, ValueConfig())
    assert out.alarm and out.surprise == MAX_SURPRISE and out.score == 1.0
    assert then(beyond, ValueConfig(range_tolerance=None)).surprise < 4.0
    assert then(inside, ValueConfig()).surprise < 4.0
    assert then(low - 0.06 * (high - low), ValueConfig()).surprise == MAX_SURPRISE


def test_a_value_beyond_the_range_alarms_even_while_an_alarm_is_in_force() -> None:
    # The first excursion raises an alarm that the hysteresis holds for a while;
    # a value beyond everything seen on the other side, ten rows later, must not be
    # silenced by it, while new records on the side already alarmed are.
    values = np.random.default_rng(14).normal(0, 1, 2000)
    spread = float(values[:1500].max() - values[:1500].min())
    values[1500] = values[:1500].max() + 0.5 * spread
    values[1505] = values[1500] + 0.5 * spread
    values[1510] = values[:1500].min() - 0.5 * spread
    values[1520] = values[1510] - 0.5 * spread
    det = ValueDetector(ValueConfig(), learn=300)
    out = [det.update(float(v)) for v in values]
    assert [i for i, s in enumerate(out) if s.alarm and i >= 1500] == [1500, 1510]
    assert [out[i].beyond for i in (1500, 1505, 1510, 1520)] == [1, 1, -1, -1]
    assert out[1510].score == 1.0 and out[1505].score == out[1520].score == 0.0


def test_pure_noise_raises_a_false_alarm_only_every_few_thousand_rows() -> None:
    # The alarm level trades false alarms for misses as NAB does (a miss costs as
    # much as 9 false alarms): on a noisy daily rhythm about one per 4000 rows.
    false = sum(s.alarm for seed in range(10, 18) for s in _run(_daily(1600, seed)))
    assert false <= 4


def test_neighbour_novelty_flags_a_shape_never_seen_within_the_usual_range() -> None:
    rng = np.random.default_rng(11)
    t = np.arange(2400)
    wave = np.sin(2 * math.pi * t / 48) + rng.normal(0, 0.05, len(t))
    broken = wave.copy()
    # From row 2000 the series flips between its extremes: every single value is
    # ordinary, the shape is not.
    broken[2000:2100] = np.where(t[2000:2100] % 2 == 0, 0.9, -0.9)
    calm, alarmed = NeighbourNovelty(), NeighbourNovelty()
    p_calm = [calm.update(float(v)) for v in wave]
    p_broken = [alarmed.update(float(v)) for v in broken]
    assert p_calm[:2000] == p_broken[:2000]
    assert min(p_broken[2000:2016]) < 1e-5
    assert min(p_calm[1000:]) > 1e-4


def test_one_spike_does_not_hide_a_later_surge_within_its_range() -> None:
    # Values near 10, one spike of 1000, then six times the usual level for an hour of
    # 5-minute rows: the spike set the range for good, and the surge never alarmed.
    values = np.random.default_rng(21).normal(10, 1, 2600)
    values[1000] = 1000.0
    values[2500:2512] = 60.0
    out = _run(values)
    assert out[1000].alarm
    assert any(s.alarm for s in out[2500:2503])
    assert out[2500].beyond == 1
    # Without the rule, as before.
    before = _run(values, ValueConfig(lone_spike=None))
    assert not any(s.alarm for s in before[2500:2512])
    # Two spikes are no longer a lone one: the range is theirs again.
    values[1200] = 990.0
    assert _run(values)[2500].beyond == 0


def test_the_range_rule_starts_from_the_first_values_seen() -> None:
    # With a history as short as one value, the range is that value's (no spike to tell).
    det = ValueDetector(ValueConfig(min_history=1, scales=(1,), neighbour_dims=0))
    assert [det.update(v).beyond for v in (10.0, 10.0, 30.0)] == [0, 0, 1]
