"""Scenarios: reproducible outage timelines, loaded from YAML and validated with pydantic.

A scenario names its services (with CDN personality and status-page kind), the
regions its crowd lives in, the vantage points probes run from, a timeline of
events at offsets from `start`, and checkpoints: the verdict pantau should reach
(`pantau.signals.ServiceState` and `Layer`) at given offsets. The format is
documented for operators in docs/scenarios.md.

`load_scenario(name_or_path)` loads a shipped scenario by name (`chatgpt-2025-01-23`)
or any YAML file; errors raise `ScenarioError` naming the file, entry and field.
`Scenario.state_at(offset)` folds the timeline into the state every lab server
must be in at that offset (see `pantau.lab.state`).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from pantau.lab.modes import DnsMode, EdgeMode, OriginMode, Personality, StatusKind
from pantau.lab.status_model import ComponentStatus, Impact, IncidentStatus
from pantau.signals import Layer, ServiceState

_DURATION = re.compile(r"^(?:(\d+)h)?\s*(?:(\d+)m)?\s*(?:(\d+(?:\.\d+)?)s)?$")
SLUG = r"^[a-z0-9-]+$"


def _offset(value: Any) -> Any:
    """Accept 90 (seconds), "1h33m", "45m", "30s", or anything pydantic's timedelta takes."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    if isinstance(value, str):
        match = _DURATION.match(value.strip())
        if match and any(match.groups()):
            hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
            return timedelta(hours=hours, minutes=minutes, seconds=seconds)
    return value


Offset = Annotated[timedelta, BeforeValidator(_offset)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Region(_Model):
    code: str
    weight: float = Field(gt=0)
    utc_offset: float = 7.0
    """Hours from UTC of this region's local time (drives the daily rhythm)."""


class Vantage(_Model):
    name: str = Field(pattern=SLUG)
    region: str


class ServiceSpec(_Model):
    slug: str = Field(pattern=SLUG)
    name: str
    category: str = "other"
    aliases: list[str] = []
    cdn: Personality = Personality.NONE
    status_page: StatusKind = StatusKind.STATUSPAGE
    components: list[str] = []
    """Status-page components; defaults to one named like the service."""
    baseline: float = Field(default=2.0, ge=0)
    """Problem reports per hour at the evening peak on a weekday, all regions together."""
    categories: dict[str, float] = {
        "website": 0.4, "app": 0.3, "login": 0.1, "api": 0.05, "other": 0.15,
    }

    @property
    def component_names(self) -> list[str]:
        return self.components or [self.name]


class StatusPost(_Model):
    incident: str
    status: IncidentStatus
    title: str | None = None
    body: str = ""
    impact: Impact | None = None
    components: dict[str, ComponentStatus] = {}
    scheduled_for: Offset | None = None
    scheduled_until: Offset | None = None


class CrowdChange(_Model):
    factor: float = Field(default=1.0, ge=0)
    """Multiplies the service's normal report rate (1 = back to normal)."""
    categories: dict[str, float] | None = None
    """Category weights while this change holds (default: the service's own)."""
    regions: dict[str, float] | None = None
    """Region weights while this change holds (default: the scenario's)."""
    texts: list[str] = []
    """Error texts people type while this change holds (besides the usual ones)."""


class Abuse(_Model):
    rate: float = Field(ge=0)
    """Reports per minute from the flooders (0 stops the flood)."""
    clients: int = Field(default=3, ge=1)
    networks: int = Field(default=1, ge=1)
    category: str = "other"
    region: str | None = None
    text: str = ""


_ACTIONS = ("origin", "edge", "dns", "status", "crowd", "abuse", "cut")


class Event(_Model):
    at: Offset
    service: str | None = None
    services: list[str] = []
    vantage: str | None = None
    origin: OriginMode | None = None
    edge: EdgeMode | None = None
    dns: DnsMode | None = None
    status: StatusPost | None = None
    crowd: CrowdChange | None = None
    abuse: Abuse | None = None
    cut: bool | None = None
    """For `vantage`: true cuts the vantage point and its users off, false restores it."""
    note: str = ""

    @model_validator(mode="after")
    def _one_action(self) -> Event:
        present = [a for a in _ACTIONS if getattr(self, a) is not None]
        if len(present) != 1:
            raise ValueError(f"an event needs exactly one of {', '.join(_ACTIONS)}")
        if present[0] == "cut":
            if self.vantage is None:
                raise ValueError("'cut' needs a 'vantage'")
        elif not self.targets:
            raise ValueError(f"'{present[0]}' needs a 'service' or 'services'")
        return self

    @property
    def action(self) -> str:
        return next(a for a in _ACTIONS if getattr(self, a) is not None)

    @property
    def targets(self) -> list[str]:
        return ([self.service] if self.service else []) + list(self.services)


class Checkpoint(_Model):
    at: Offset
    service: str
    state: ServiceState
    layer: Layer
    note: str = ""


class Scenario(_Model):
    name: str = Field(pattern=SLUG)
    description: str = ""
    start: AwareDatetime
    """The UTC moment of offset 0."""
    duration: Offset
    speed: float = Field(default=60.0, gt=0)
    """Default time scale: scenario seconds per wall-clock second."""
    seed: int = 0
    regions: list[Region] = [Region(code="ID-JK", weight=1.0)]
    vantages: list[Vantage] = []
    services: list[ServiceSpec] = Field(min_length=1)
    timeline: list[Event] = []
    checkpoints: list[Checkpoint] = []

    @model_validator(mode="after")
    def _references(self) -> Scenario:
        slugs = {s.slug for s in self.services}
        vantages = {v.name for v in self.vantages}
        regions = {r.code for r in self.regions}
        if len(slugs) != len(self.services):
            raise ValueError("service slugs must be unique")
        opened: set[tuple[str, str]] = set()
        for i, event in enumerate(self.timeline):
            where = f"timeline[{i}]"
            if not timedelta(0) <= event.at <= self.duration:
                raise ValueError(f"{where}.at: outside 0..duration")
            for slug in event.targets:
                if slug not in slugs:
                    raise ValueError(f"{where}.service: unknown service {slug!r}")
            if event.vantage is not None and event.vantage not in vantages:
                raise ValueError(f"{where}.vantage: unknown vantage {event.vantage!r}")
            if event.abuse and event.abuse.region and event.abuse.region not in regions:
                raise ValueError(f"{where}.abuse.region: unknown region {event.abuse.region!r}")
            if event.status is not None:
                for slug in event.targets:
                    key = (slug, event.status.incident)
                    if key not in opened and event.status.title is None:
                        raise ValueError(f"{where}.status.title: a new incident needs a title")
                    opened.add(key)
        for i, checkpoint in enumerate(self.checkpoints):
            if checkpoint.service not in slugs:
                raise ValueError(f"checkpoints[{i}].service: unknown {checkpoint.service!r}")
        return self

    def service(self, slug: str) -> ServiceSpec:
        return next(s for s in self.services if s.slug == slug)

    def at(self, offset: timedelta) -> datetime:
        return self.start + offset

    def events(self) -> list[Event]:
        """The timeline in time order (stable for events at the same offset)."""
        return sorted(self.timeline, key=lambda e: e.at)


class ScenarioError(ValueError):
    """A scenario file that cannot be used; the message names file, entry and field."""


def shipped_scenarios() -> list[str]:
    folder = resources.files("pantau.lab") / "scenarios"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_scenario(name_or_path: str | Path) -> Scenario:
    """Load a shipped scenario by name, or a YAML file by path."""
    path = Path(name_or_path)
    if not path.suffix:
        resource = resources.files("pantau.lab") / "scenarios" / f"{name_or_path}.yaml"
        if not resource.is_file():
            known = ", ".join(shipped_scenarios())
            raise ScenarioError(f"no scenario named {name_or_path!r} (shipped: {known})")
        return parse_scenario(resource.read_text(encoding="utf-8"), f"{name_or_path}.yaml")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"{path}: {exc.strerror}") from exc
    return parse_scenario(text, str(path))


def parse_scenario(text: str, source: str = "<scenario>") -> Scenario:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{source}: not valid YAML: {exc}") from exc
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err["loc"])
            msg = err["msg"].removeprefix("Value error, ")
            problems.append(f"{source}: {loc.lstrip('.') or 'scenario'}: {msg}")
        raise ScenarioError("\n".join(problems)) from None
