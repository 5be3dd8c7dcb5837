"""Official lag: how long after pantau's first alarm a vendor first admits a problem.

Pure functions over (alarm time, vendor first post time) pairs. pantau's alarm times
come from the incident fusion stage, through the `AlarmTimes` protocol, so this
module never reads another domain's tables.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol


class AlarmTimes(Protocol):
    async def __call__(self, service: str, since: datetime, until: datetime) -> Sequence[datetime]:
        """pantau's first-alarm time of every incident it opened for `service`."""
        ...


# A vendor post this long before pantau's alarm is the same event admitted early;
# this long after, it is unlikely to be the same event at all.
BEFORE = timedelta(hours=1)
AFTER = timedelta(hours=6)


@dataclass(frozen=True, slots=True)
class LagSample:
    alarm_at: datetime
    first_post_at: datetime | None
    """None: the vendor has not posted about it (within `AFTER`)."""
    pending: bool = False
    """No post yet, but the window is still open: not counted as never admitted."""

    @property
    def seconds(self) -> float | None:
        if self.first_post_at is None:
            return None
        return (self.first_post_at - self.alarm_at).total_seconds()


@dataclass(frozen=True, slots=True)
class LagSummary:
    vendor: str
    incidents: int
    admitted: int
    never_admitted: int
    pending: int
    admitted_first: int
    """How often the vendor posted before pantau raised its alarm."""
    median_s: float | None
    p90_s: float | None
    """The 90th percentile, interpolated between the two nearest lags (statistics'
    "inclusive" method, numpy's default "linear"), so it never leaves the lags seen:
    with few incidents it lies near the worst; with one, it is that incident's lag."""
    mean_s: float | None
    worst_s: float | None


def pair(
    alarms: Iterable[datetime],
    first_posts: Iterable[datetime],
    now: datetime,
    *,
    before: timedelta = BEFORE,
    after: timedelta = AFTER,
) -> list[LagSample]:
    """Match each alarm to the earliest vendor post in [alarm - before, alarm + after].
    Each post answers one alarm at most, so two alarms never share one admission."""
    posts = sorted(first_posts)
    used: set[int] = set()
    samples: list[LagSample] = []
    for alarm in sorted(alarms):
        match = next(
            (
                i
                for i, at in enumerate(posts)
                if i not in used and alarm - before <= at <= alarm + after
            ),
            None,
        )
        if match is not None:
            used.add(match)
            samples.append(LagSample(alarm, posts[match]))
        else:
            samples.append(LagSample(alarm, None, pending=now < alarm + after))
    return samples


def distinct_alarms(alarms: Iterable[datetime], gap: timedelta = BEFORE) -> list[datetime]:
    """Alarms closer than `gap` to the previous one are the same event (several services
    on one vendor page alarm together); keep the first of each run."""
    kept: list[datetime] = []
    last: datetime | None = None
    for at in sorted(alarms):
        if last is None or at - last >= gap:
            kept.append(at)
        last = at
    return kept


def _p90(lags: Sequence[float]) -> float:
    # Python 3.11's statistics.quantiles needs two values; one value is its own p90.
    if len(lags) == 1:
        return lags[0]
    return statistics.quantiles(lags, n=10, method="inclusive")[-1]


def summarise(vendor: str, samples: Sequence[LagSample]) -> LagSummary:
    lags = [s.seconds for s in samples if s.seconds is not None]
    return LagSummary(
        vendor=vendor,
        incidents=len(samples),
        admitted=len(lags),
        never_admitted=sum(1 for s in samples if s.first_post_at is None and not s.pending),
        pending=sum(1 for s in samples if s.pending),
        admitted_first=sum(1 for s in lags if s < 0),
        median_s=statistics.median(lags) if lags else None,
        p90_s=_p90(lags) if lags else None,
        mean_s=statistics.fmean(lags) if lags else None,
        worst_s=max(lags) if lags else None,
    )
