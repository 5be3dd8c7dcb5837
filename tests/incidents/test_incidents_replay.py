"""Every shipped lab scenario, replayed through the real pipeline: the state and layer at
each checkpoint the scenario declares."""

from __future__ import annotations

import pytest
from lab_replay import replay

from pantau.incidents.attribute import cdn_name
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
    # Services behind one CDN failing at its edge in the same minutes: one linked incident.
    for at in {c.at for c in scenario.checkpoints}:
        edge_down = {c.service for c in scenario.checkpoints
                     if c.at == at and c.layer.value == "edge"}
        by_cdn: dict[str, set[str]] = {}
        for slug in edge_down:
            by_cdn.setdefault(scenario.service(slug).cdn.value, set()).add(slug)
        for cdn, services in by_cdn.items():
            if len(services) >= 2:
                shared = [s for s in result.shared[at] if s.cdn == cdn]
                assert len(shared) == 1, (at, cdn, result.shared[at])
                assert services <= set(shared[0].members)
                assert shared[0].title.en == f"{cdn_name(cdn)} problem"
