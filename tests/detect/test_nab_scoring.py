"""bench/nab.py scores by NAB's rules: null 0, perfect 100, one credit per window."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "nab.py"


@pytest.fixture(scope="module")
def nab() -> ModuleType:
    spec = importlib.util.spec_from_file_location("nab_bench", BENCH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["nab_bench"] = module
    spec.loader.exec_module(module)
    return module


def test_null_perfect_and_first_detection_only(nab: ModuleType) -> None:
    w = nab.Weights(tp=1.0, fp=0.11, fn=1.0)
    s = nab.Series("cat/f.csv", [(200, 299), (600, 649)], 100, [0.0] * 1000, [0.0] * 1000,
                   [0] * 1000)
    null, perfect = nab.bounds([s], w)
    flags = [False] * 1000
    assert nab.normalised(nab.score_file(flags, s, w), null, perfect) == 0.0
    flags[200] = flags[600] = True
    assert nab.normalised(nab.score_file(flags, s, w), null, perfect) == pytest.approx(100.0)
    # Later detections in a window add nothing; one at a window's end earns ~0.
    flags[250] = True
    assert nab.score_file(flags, s, w) == pytest.approx(2.0)
    late = [i in (200, 649) for i in range(1000)]
    assert nab.score_file(late, s, w) == pytest.approx(
        1.0 + w.tp * nab.sigmoid(-1 / 50) / nab.sigmoid(-1.0)
    )
    # Before any window: the full fp; just after one: nearly nothing; far after: -fp.
    early = [i in (150, 50) for i in range(1000)]  # row 50 is probationary
    assert nab.score_file(early, s, w) == pytest.approx(-w.fp - 2 * w.fn)
    just_after = [i == 300 for i in range(1000)]
    assert nab.score_file(just_after, s, w) == pytest.approx(w.fp * nab.sigmoid(1 / 99) - 2 * w.fn)
    far = [i == 599 for i in range(1000)]
    assert nab.score_file(far, s, w) == pytest.approx(-w.fp - 2 * w.fn)
    assert nab.sigmoid(0.0) == 0.0 and math.isclose(nab.sigmoid(-1.0), 0.98661, abs_tol=1e-5)


def test_sweep_matches_scoring_each_threshold(nab: ModuleType) -> None:
    w = nab.Weights(tp=1.0, fp=0.22, fn=1.0)
    scores = [0.0] * 1000
    scores[120], scores[210], scores[400], scores[620] = 0.9, 0.5, 0.7, 0.5
    s = nab.Series("cat/f.csv", [(200, 299), (600, 649)], 100, [0.0] * 1000, scores, [0] * 1000)
    for threshold, raw in nab.sweep([s], w):
        flags = [v >= threshold for v in scores]
        assert raw == pytest.approx(nab.score_file(flags, s, w))
