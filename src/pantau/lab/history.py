"""A quiet past for a scenario: the crowd detector's minutes before the scenario starts.

A demo on a fresh database would otherwise open with an empty chart and a detector
that knows only its prior. The simulated crowd of the days before the scenario
(the same generator and rhythm, no surges) is rolled up and scored exactly as the
detector job does, so the job's start-up replay learns the service's baseline from
it; and the same minutes, as fusion would have stored them with everything working,
let the page draw a day of reports against the expected level.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pantau.crowd.rollup import rollup
from pantau.crowd.validate import normalise_text
from pantau.detect.job import MINUTE, CrowdScorer
from pantau.lab.crowd import generate_reports
from pantau.lab.scenario import Scenario
from pantau.signals import CrowdMinute, Layer, ServiceState
from pantau.store.incidents import MinuteRow
from pantau.store.reports import ReportRow


def history_minutes(scenario: Scenario, days: int, scorer: CrowdScorer) -> list[CrowdMinute]:
    """Every minute of the `days` before `scenario.start`, for each scenario service, as
    `scorer` (new, made as the job makes its own) scores them."""
    lead = timedelta(days=days)
    rows = [
        # Everyone in a quiet past is a different person: each report counts.
        ReportRow(
            r.service, r.at, r.client_id, r.network, r.category, r.region,
            normalise_text(r.text), True,
        )
        for r in generate_reports(scenario, start=-lead, end=timedelta(0))
    ]
    rollups = rollup(rows)
    services = [s.slug for s in scenario.services]
    minute: datetime = scenario.start - lead
    out: list[CrowdMinute] = []
    while minute < scenario.start:
        out.extend(scorer.score(minute, services, rollups))
        minute += MINUTE
    return out


def working_minutes(minutes: list[CrowdMinute]) -> dict[str, list[MinuteRow]]:
    """Each service's crowd minutes as fusion stores them for a time when all worked."""
    out: dict[str, list[MinuteRow]] = {}
    for m in minutes:
        out.setdefault(m.service, []).append(
            MinuteRow(m.minute, ServiceState.OPERATIONAL, Layer.NONE, m.reporters, m.expected,
                      dict(m.categories), dict(m.regions), dict(m.texts))
        )
    return out
