"""The state of every lab server at one scenario offset, folded from the timeline.

`state_at(scenario, offset)` is pure: it replays every event up to and including
`offset` and returns what `Lab.apply` then pushes into the servers (and what a
fast replay reads without any server at all).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pantau.lab.modes import DnsMode, EdgeMode, OriginMode
from pantau.lab.scenario import Abuse, CrowdChange, Scenario
from pantau.lab.status_model import StatusPage


@dataclass
class LabState:
    origin: dict[str, OriginMode]
    edge: dict[str, EdgeMode]
    dns: dict[str, DnsMode]
    pages: dict[str, StatusPage]
    crowd: dict[str, CrowdChange] = field(default_factory=dict)
    """Active crowd changes per service (absent: normal)."""
    abuse: dict[str, Abuse] = field(default_factory=dict)
    """Active floods per service (absent: none)."""
    cut: set[str] = field(default_factory=set)
    """Vantage points cut off, with their users."""


def initial_state(scenario: Scenario) -> LabState:
    slugs = [s.slug for s in scenario.services]
    return LabState(
        origin=dict.fromkeys(slugs, OriginMode.HEALTHY),
        edge=dict.fromkeys(slugs, EdgeMode.HEALTHY),
        dns=dict.fromkeys(slugs, DnsMode.OK),
        pages={s.slug: StatusPage(s.name, s.component_names) for s in scenario.services},
    )


def state_at(scenario: Scenario, offset: timedelta) -> LabState:
    state = initial_state(scenario)
    for event in scenario.events():
        if event.at > offset:
            break
        for slug in event.targets:
            if event.origin is not None:
                state.origin[slug] = event.origin
            if event.edge is not None:
                state.edge[slug] = event.edge
            if event.dns is not None:
                state.dns[slug] = event.dns
            if event.crowd is not None:
                if event.crowd.factor == 1.0 and not event.crowd.texts:
                    state.crowd.pop(slug, None)
                else:
                    state.crowd[slug] = event.crowd
            if event.abuse is not None:
                if event.abuse.rate > 0:
                    state.abuse[slug] = event.abuse
                else:
                    state.abuse.pop(slug, None)
            if event.status is not None:
                post = event.status
                state.pages[slug].post(
                    post.incident,
                    scenario.at(event.at),
                    post.status,
                    body=post.body,
                    title=post.title,
                    impact=post.impact,
                    components=dict(post.components),
                    scheduled_for=_when(scenario, post.scheduled_for),
                    scheduled_until=_when(scenario, post.scheduled_until),
                )
        if event.cut is not None and event.vantage is not None:
            if event.cut:
                state.cut.add(event.vantage)
            else:
                state.cut.discard(event.vantage)
    return state


def _when(scenario: Scenario, offset: timedelta | None) -> datetime | None:
    return None if offset is None else scenario.at(offset)
