"""Every shipped lab scenario, replayed through the real pipeline: the state and layer at
each checkpoint the scenario declares."""

from __future__ import annotations

import pytest
from lab_replay import replay

from pantau.lab.scenario import load_scenario, shipped_scenarios


@pytest.mark.slow
@pytest.mark.parametrize("name", shipped_scenarios())
async def test_scenario_checkpoints(name: str) -> None:
    scenario = load_scenario(name)
    assert scenario.checkpoints, f"{name} declares no checkpoints"
    last = max(c.at for c in scenario.checkpoints)
    result = await replay(scenario, until=last)
    got = []
    want = []
    for c in sorted(scenario.checkpoints, key=lambda c: (c.at, c.service)):
        a = result.minutes[c.at].assessments[c.service]
        got.append((str(c.at), c.service, a.state.value, a.layer.value))
        want.append((str(c.at), c.service, c.state.value, c.layer.value))
    assert got == want
