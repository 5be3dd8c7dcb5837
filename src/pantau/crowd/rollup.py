"""Per-minute rollups of stored reports: what the detector and the pages count."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo

from pantau.store.reports import ReportRow, RollupCount

TOP_TEXTS = 5


def sum_counts(minutes: Iterable[object], name: str) -> Counter[str]:
    """The per-minute count maps in attribute `name` (categories, regions, texts) added up."""
    total: Counter[str] = Counter()
    for m in minutes:
        total.update(getattr(m, name))
    return total


@dataclass(slots=True)
class Rollup:
    """One service's minute.

    Reporters, networks and regions come from counted reports (new voices) only, so
    a reporter repeating themselves, or a flood from one network, adds nothing to
    them. Categories and texts count distinct reporters: a repeat adds the details
    its reporter has not given yet within the rollup (a new category, a new error
    text), never the same detail twice.
    """

    reporters: int = 0
    networks: set[str] = field(default_factory=set)
    categories: Counter[str] = field(default_factory=Counter)
    regions: Counter[str] = field(default_factory=Counter)
    texts: Counter[str] = field(default_factory=Counter)

    def top_texts(self) -> dict[str, int]:
        """The most reported texts; ties in alphabetical order, not in the order the
        database happened to give them (SQLite and PostgreSQL differ)."""
        ranked = sorted(self.texts.items(), key=lambda item: (-item[1], item[0]))
        return dict(ranked[:TOP_TEXTS])


def minute_of(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


def rollup(
    rows: Iterable[ReportRow], since: datetime | None = None
) -> dict[tuple[str, datetime], Rollup]:
    """Roll up rows, oldest first. Rows before `since` are only what their reporters
    said already (the store reads them for repeats); they are not counted again."""
    out: dict[tuple[str, datetime], Rollup] = {}
    said: set[tuple[str, str, str, str]] = set()

    def new(row: ReportRow, kind: str, detail: str) -> bool:
        key = (row.service, row.reporter, kind, detail)
        if key in said:
            return False
        said.add(key)
        return True

    for row in rows:
        if since is not None and row.at < since:
            new(row, "category", row.category)
            if row.text_norm:
                new(row, "text", row.text_norm)
            continue
        r = out.setdefault((row.service, minute_of(row.at)), Rollup())
        if row.counted:
            r.reporters += 1
            r.networks.add(row.network)
            if row.region:
                r.regions[row.region] += 1
        if new(row, "category", row.category):
            r.categories[row.category] += 1
        if row.text_norm and new(row, "text", row.text_norm):
            r.texts[row.text_norm] += 1
    return out


def from_counts(counts: Iterable[RollupCount]) -> dict[tuple[str, datetime], Rollup]:
    """The rollups the database counted (`ReportsStoreMixin.rollup_counts`): the same as
    `rollup` of the rows it would have read, but for minutes with nothing to count
    (only repeats of what was said), which are left out."""
    out: dict[tuple[str, datetime], Rollup] = {}
    for kind, service, minute, key, n in counts:
        r = out.get((service, minute))
        if r is None:
            r = out[(service, minute)] = Rollup()
        if kind == "reporters":
            r.reporters = n
        elif kind == "networks":
            r.networks.update(key.split())
        elif kind == "region":
            r.regions[key] = n
        elif kind == "category":
            r.categories[key] = n
        else:
            r.texts[key] = n
    return out


@dataclass(slots=True)
class RecentNetworks:
    """The distinct networks of one service's counted reports over the last minutes,
    for windows of several lengths. A network reporting in many minutes is one network.

    A network's stored hash is salted by the day in `zone` (PANTAU_CROWD_TIMEZONE, as
    `identity.Hasher` salts it), so across midnight one network shows as two. A window
    that spans midnight counts the busier of its two days, not their sum: a flood
    from 20 networks that goes on past midnight would otherwise show 40 and pass the
    distinct-network rule (`CountConfig.min_networks`). What this costs is a window's
    networks new after midnight, for the first half hour of a day at most."""

    windows: tuple[int, ...]
    zone: tzinfo = UTC
    _minutes: dict[datetime, tuple[date, frozenset[str]]] = field(default_factory=dict)

    def add(self, minute: datetime, networks: Iterable[str]) -> None:
        """Note a minute's networks (again: the same minute noted twice is kept once)."""
        self._minutes[minute] = (minute.astimezone(self.zone).date(), frozenset(networks))
        oldest = minute - timedelta(minutes=max(self.windows) - 1)
        for old in [m for m in self._minutes if m < oldest]:
            del self._minutes[old]

    def holds(self, minute: datetime) -> bool:
        return minute in self._minutes

    def counts(self, minute: datetime) -> tuple[int, ...]:
        """Distinct networks in each window ending with `minute`."""
        out = []
        for window in self.windows:
            first = minute - timedelta(minutes=window - 1)
            by_day: dict[date, set[str]] = {}
            for m, (day, networks) in self._minutes.items():
                if first <= m <= minute:
                    by_day.setdefault(day, set()).update(networks)
            out.append(max((len(seen) for seen in by_day.values()), default=0))
        return tuple(out)
