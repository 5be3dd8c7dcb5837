"""Store methods for crowd reports and the detector's per-minute results."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any, ClassVar, NamedTuple

from sqlalchemy import (
    BindParameter,
    CompoundSelect,
    and_,
    bindparam,
    delete,
    exists,
    func,
    literal,
    or_,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from pantau.signals import CrowdMinute, CrowdState
from pantau.store.base import aware, dialect_insert
from pantau.store.report_queue import ReportQueueMixin
from pantau.store.schema.reports import crowd_minutes, reports

When = datetime | BindParameter[datetime]


@dataclass(frozen=True, slots=True)
class ReportRow:
    """What a rollup needs of one stored report."""

    service: str
    at: datetime
    reporter: str
    network: str
    category: str
    region: str | None
    text_norm: str | None
    counted: bool


_ROW_COLUMNS = (
    reports.c.service,
    reports.c.at,
    reports.c.reporter,
    reports.c.network,
    reports.c.category,
    reports.c.region,
    reports.c.text_norm,
    reports.c.counted,
)


def _report_row(r: Any) -> ReportRow:
    return ReportRow(
        r.service, aware(r.at), r.reporter, r.network, r.category, r.region, r.text_norm, r.counted
    )


class RollupCount(NamedTuple):
    """One count of a rollup: `kind` is reporters (key ""), networks (key: the minute's
    networks, spaced; n: how many), region, category or text (key: the one counted)."""

    kind: str
    service: str
    minute: datetime
    key: str
    n: int


class _InDialect(FunctionElement[Any]):
    """SQL that each database spells its own way: `spelling[dialect]`, `{}` standing for
    the argument."""

    inherit_cache = True
    spelling: ClassVar[dict[str, str]]


@compiles(_InDialect)
def _spell(element: _InDialect, compiler: Any, **kw: Any) -> str:
    return element.spelling[compiler.dialect.name].format(
        compiler.process(element.clauses, **kw)
    )


class _MinuteOf(_InDialect):
    """The minute a stored time falls in: SQLite keeps times as text ("2025-01-23
    12:00:07.000000"), PostgreSQL as timestamps."""

    inherit_cache = True
    spelling: ClassVar[dict[str, str]] = {
        "sqlite": "substr({}, 1, 16)",
        "postgresql": "date_trunc('minute', {})",
    }


class _Joined(_InDialect):
    """A group's values joined by spaces, in one row: a minute's networks, 100,000 of
    them in a surge, come back as one value. sqlite3 lets go of the GIL around every
    row it steps to, and getting it back from the busy event loop's thread can take
    the switch interval (5 ms) each time: a row per network took minutes."""

    inherit_cache = True
    spelling: ClassVar[dict[str, str]] = {
        "sqlite": "group_concat({}, ' ')",
        "postgresql": "string_agg({}, ' ')",
    }


def _minute_value(value: datetime | str) -> datetime:
    return aware(value if isinstance(value, datetime) else datetime.fromisoformat(value))


_SINCE, _UNTIL, _LOOKBACK = (
    bindparam(name, type_=reports.c.at.type) for name in ("since", "until", "lookback")
)


def _rollup_selection(since: When, until: When, lookback: When) -> Any:
    """The rows a rollup of `since <= at < until` reads (`rollup_rows` says which), with
    the repeats' voices from `lookback` on."""
    at = reports.c.at
    voices = select(reports.c.service, reports.c.reporter).where(
        reports.c.counted, at >= lookback, at < until
    )
    repeaters = select(reports.c.service, reports.c.reporter).where(
        ~reports.c.counted, at >= since, at < until
    )
    who = tuple_(reports.c.service, reports.c.reporter)
    return select(*_ROW_COLUMNS).where(
        at >= lookback,
        at < until,
        or_(
            and_(at >= since, reports.c.counted),
            and_(at >= since, who.in_(voices)),
            and_(at < since, who.in_(repeaters)),
        ),
    )


@cache
def _rollup_counts() -> CompoundSelect[Any]:
    """`ReportsStoreMixin.rollup_counts`'s statement, for the times bound as `since`,
    `until` and `lookback` (`since` less the window of repeats). Built once: a catch-up
    after a long stop rolls up a day, a minute at a time, and building it anew for each
    took 7 % of the catch-up's CPU, on the event loop's thread (bench/catch_up.py)."""
    since, until = _SINCE, _UNTIL
    at, counted = reports.c.at, reports.c.counted
    voices = and_(counted, at >= since, at < until)
    minute = _MinuteOf(at)
    networks = (
        select(reports.c.service, minute.label("minute"), reports.c.network)
        .where(voices)
        .distinct()
        .subquery()
    )
    parts = [
        select(literal("reporters"), reports.c.service, minute, literal(""), func.count())
        .where(voices)
        .group_by(reports.c.service, minute),
        select(literal("networks"), networks.c.service, networks.c.minute,
               _Joined(networks.c.network), func.count())
        .group_by(networks.c.service, networks.c.minute),
        select(literal("region"), reports.c.service, minute, reports.c.region, func.count())
        .where(voices, reports.c.region.is_not(None), reports.c.region != "")
        .group_by(reports.c.service, minute, reports.c.region),
    ]
    chosen = _rollup_selection(since, until, _LOOKBACK).cte("chosen")
    for kind, detail in (("category", chosen.c.category), ("text", chosen.c.text_norm)):
        first = (
            select(
                chosen.c.service, detail.label("detail"), func.min(chosen.c.at).label("at")
            )
            .where(detail.is_not(None), detail != "")
            .group_by(chosen.c.service, chosen.c.reporter, detail)
            .subquery()
        )
        said = _MinuteOf(first.c.at)
        parts.append(
            select(literal(kind), first.c.service, said, first.c.detail, func.count())
            .where(first.c.at >= since)
            .group_by(first.c.service, said, first.c.detail)
        )
    return union_all(*parts)


def _minute(row: Any) -> CrowdMinute:
    return CrowdMinute(
        service=row.service,
        minute=aware(row.minute),
        reporters=row.reporters,
        networks=row.networks,
        networks_10m=row.networks_10m,
        networks_30m=row.networks_30m,
        expected=row.expected,
        score=row.score,
        state=CrowdState(row.state),
        alarm=row.alarm,
        categories=dict(row.categories),
        regions=dict(row.regions),
        texts=dict(row.texts),
    )


class ReportsStoreMixin(ReportQueueMixin):
    """Reports: their queue and group commits (`ReportQueueMixin`), and the reads and
    roll-ups of what is stored."""

    async def report_count(self, service: str | None = None) -> int:
        def q(conn: Connection) -> int:
            stmt = select(func.count()).select_from(reports)
            if service is not None:
                stmt = stmt.where(reports.c.service == service)
            return int(conn.scalar(stmt) or 0)

        return await self.read(q)

    async def report_rows(self, since: datetime, until: datetime) -> list[ReportRow]:
        """Reports with `since <= at < until`, every service, oldest first."""

        def q(conn: Connection) -> list[ReportRow]:
            stmt = (
                select(*_ROW_COLUMNS)
                .where(reports.c.at >= since, reports.c.at < until)
                .order_by(reports.c.at)
            )
            return [_report_row(r) for r in conn.execute(stmt)]

        return await self.read(q)

    async def voices_since(self, since: datetime) -> list[tuple[str, float, str, str]]:
        """The counted reports from `since` on, oldest first: (service, Unix time,
        reporter, network), what the one-voice gate held of them before a restart."""

        def q(conn: Connection) -> list[tuple[str, float, str, str]]:
            c = reports.c
            stmt = (select(c.service, c.at, c.reporter, c.network)
                    .where(c.at >= since, c.counted).order_by(c.at))
            return [(r.service, aware(r.at).timestamp(), r.reporter, r.network)
                    for r in conn.execute(stmt)]

        return await self.read(q)

    async def rollup_rows(
        self, since: datetime, until: datetime, repeats_within: timedelta
    ) -> list[ReportRow]:
        """What a rollup of `since <= at < until` reads, every service, oldest first: the
        rows behind `rollup_counts`, for `crowd.rollup.rollup` to roll up in Python.

        The counted reports; the uncounted ones of reporters who hold a voice (a
        counted report for that service within `repeats_within` before), i.e. their
        repeats, which add details; and for those repeating reporters, what they
        reported in the `repeats_within` before `since`, so a detail they already
        gave is not counted again. Uncounted reports of reporters without a voice
        (a network past its budget: a flood) add nothing and are not read.
        """
        stmt = _rollup_selection(since, until, since - repeats_within).order_by(reports.c.at)

        def q(conn: Connection) -> list[ReportRow]:
            return [_report_row(r) for r in conn.execute(stmt)]

        return await self.read(q)

    async def rollup_counts(
        self, since: datetime, until: datetime, repeats_within: timedelta
    ) -> list[RollupCount]:
        """The rollup of `since <= at < until` counted by the database: what
        `crowd.rollup.rollup` makes of `rollup_rows` (but for minutes with nothing to
        count, which it leaves out), without a row per report.

        A surge's minute is 100,000 reports and more; read and rolled up in Python
        they took 20 us each, as much CPU as taking them in (bench/minute_job.py).
        Voices, their networks and regions come from the counted reports; a category
        or a text counts at its reporter's first mention of it (repeats add only what
        is new, and a mention before `since` only marks it as said)."""
        stmt = _rollup_counts()
        when = {"since": since, "until": until, "lookback": since - repeats_within}

        def q(conn: Connection) -> list[RollupCount]:
            return [
                RollupCount(kind, service, _minute_value(minute), key, int(n))
                for kind, service, minute, key, n in conn.execute(stmt, when)
            ]

        return await self.read(q)

    async def save_crowd_minutes(self, minutes: Sequence[CrowdMinute]) -> None:
        """Insert or replace the detector's rows (a re-run of a minute overwrites it)."""
        if not minutes:
            return
        rows = [
            {
                "service": m.service,
                "minute": m.minute,
                "reporters": m.reporters,
                "networks": m.networks,
                "networks_10m": m.networks_10m,
                "networks_30m": m.networks_30m,
                "expected": m.expected,
                "score": m.score,
                "state": m.state.value,
                "alarm": m.alarm,
                "categories": dict(m.categories),
                "regions": dict(m.regions),
                "texts": dict(m.texts),
            }
            for m in minutes
        ]

        def write(conn: Connection) -> None:
            # One statement, many rows of parameters (the driver's executemany): a catch-up
            # after a long stop is a day of every service, and a statement with the rows
            # in its VALUES was compiled anew for every 500 of them.
            keys = ("service", "minute")
            stmt = dialect_insert(conn, crowd_minutes)
            stmt = stmt.on_conflict_do_update(
                index_elements=list(keys),
                set_={c.name: stmt.excluded[c.name] for c in crowd_minutes.c
                      if c.name not in keys},
            )
            conn.execute(stmt, rows)

        await self.writer.submit(write)

    async def crowd_minutes(
        self, since: datetime, until: datetime | None = None, service: str | None = None
    ) -> list[CrowdMinute]:
        """Detector rows with `since <= minute < until`, oldest first."""

        def q(conn: Connection) -> list[CrowdMinute]:
            stmt = select(crowd_minutes).where(crowd_minutes.c.minute >= since)
            if until is not None:
                stmt = stmt.where(crowd_minutes.c.minute < until)
            if service is not None:
                stmt = stmt.where(crowd_minutes.c.service == service)
            stmt = stmt.order_by(crowd_minutes.c.minute, crowd_minutes.c.service)
            return [_minute(r) for r in conn.execute(stmt)]

        return await self.read(q)

    async def services_with_minutes_before(
        self, at: datetime, services: Sequence[str]
    ) -> frozenset[str]:
        """Those of `services` with a detector row older than `at`."""

        def q(conn: Connection) -> frozenset[str]:
            # One look-up of the primary key (service, minute) each, not a scan of months.
            return frozenset(
                service for service in services
                if conn.scalar(select(exists().where(
                    crowd_minutes.c.service == service, crowd_minutes.c.minute < at)))
            )

        return await self.read(q)

    async def latest_crowd(self, at: datetime, since: datetime) -> dict[str, CrowdMinute]:
        """Each service's newest detector row with `since <= minute <= at` (for fusion)."""

        def q(conn: Connection) -> dict[str, CrowdMinute]:
            newest = (
                select(crowd_minutes.c.service, func.max(crowd_minutes.c.minute).label("m"))
                .where(crowd_minutes.c.minute >= since, crowd_minutes.c.minute <= at)
                .group_by(crowd_minutes.c.service)
                .subquery()
            )
            stmt = select(crowd_minutes).join(
                newest,
                (crowd_minutes.c.service == newest.c.service)
                & (crowd_minutes.c.minute == newest.c.m),
            )
            return {r.service: _minute(r) for r in conn.execute(stmt)}

        return await self.read(q)

    async def purge_reports(self, before: datetime) -> int:
        """Drop raw reports older than `before` (the retention period); rollups stay."""

        def write(conn: Connection) -> int:
            return conn.execute(delete(reports).where(reports.c.at < before)).rowcount

        return await self.writer.submit(write)


def reports_store(store: object) -> ReportsStoreMixin:
    """The store as the crowd domain sees it; a clear error if the mixin is missing."""
    if not isinstance(store, ReportsStoreMixin):
        raise TypeError("pantau.store.Store must list ReportsStoreMixin among its bases")
    return store
