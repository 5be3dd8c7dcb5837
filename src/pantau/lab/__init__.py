"""The outage lab: real servers on loopback that fail the way real services do.

Public API (stable; other packages and the CLI build on it):

- `Lab.start(scenario_or_services, ...)`: async context manager running every lab
  server in-process (see `pantau.lab.lab` for the attributes and setters).
- `load_scenario(name_or_path)`, `Scenario`, `ScenarioError`, `shipped_scenarios()`:
  the YAML scenario model (`pantau.lab.scenario`, format in docs/scenarios.md).
- `state_at(scenario, offset)`: every server's state at an offset, pure.
- `generate_reports(scenario, seed, start, end)`, `SimReport`: the simulated crowd.
- `send_reports(...)`: post simulated reports to a pantau server in scaled real time.
- `OriginMode`, `EdgeMode`, `DnsMode`, `PageMode`, `Personality`, `StatusKind`: the
  fault vocabulary.
"""

from pantau.lab.crowd import SimReport, generate_reports
from pantau.lab.lab import Lab, LabService, personality_services
from pantau.lab.modes import DnsMode, EdgeMode, OriginMode, PageMode, Personality, StatusKind
from pantau.lab.scenario import (
    Scenario,
    ScenarioError,
    ServiceSpec,
    load_scenario,
    parse_scenario,
    shipped_scenarios,
)
from pantau.lab.state import LabState, state_at

__all__ = [
    "DnsMode",
    "EdgeMode",
    "Lab",
    "LabService",
    "LabState",
    "OriginMode",
    "PageMode",
    "Personality",
    "Scenario",
    "ScenarioError",
    "ServiceSpec",
    "SimReport",
    "StatusKind",
    "generate_reports",
    "load_scenario",
    "parse_scenario",
    "personality_services",
    "shipped_scenarios",
    "state_at",
]
