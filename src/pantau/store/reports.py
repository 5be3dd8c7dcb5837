"""Store methods for crowd reports and the detector's per-minute results."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Sequence
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
from pantau.store.base import StoreBase, aware, dialect_insert
from pantau.store.report_insert import NewReport, ReportInsert
from pantau.store.schema.reports import crowd_minutes, reports
from pantau.store.writer import Overloaded

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


class ReportsStoreMixin(StoreBase):
    MAX_PENDING_REPORTS = 10_000
    """Reports waiting for their commit before `add_report` refuses with `Overloaded`."""
    REPORT_COMMIT_EVERY = 0.003
    """Seconds from the start of one commit of reports to the next, at the least. A
    commit's fsync and thread hops cost ~300 us of CPU however few reports it carries;
    waiting up to 3 ms lets a surge's reports share commits (in bench/ingest.py's
    closed loop the writer thread's CPU per report fell from ~34 to ~22 us in two of
    three alternated runs on a noisy machine)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pending_reports: list[NewReport] = []
        self._reserved_reports = 0
        self._report_futures: list[asyncio.Future[str]] = []
        self._reports_writing: list[asyncio.Future[str]] = []
        self._writing_stamp: datetime | None = None
        """The time the batch being written is stored at, once read (`stamp_reports`)."""
        self._report_insert = ReportInsert(self.engine.dialect)
        self._report_flusher: asyncio.Task[None] | None = None
        self._report_commit_at = -math.inf
        self._report_clock: Callable[[], datetime] | None = None

    def stamp_reports(self, now: Callable[[], datetime]) -> None:
        """Store each report at the time of its group commit, read from `now` (the
        ingest's clock) as the commit begins, not at the time it was decided.

        A minute is rolled up a moment after it ends, once this process's writes are
        in; another process's (`--workers`), or a surge's long write queue, could commit
        a report decided in that minute later still, into a minute already rolled up,
        and it was never counted. Stored at its commit, it is counted in the minute it
        became visible in."""
        self._report_clock = now

    def reports_full(self) -> bool:
        """Whether `add_report` would refuse a report now (`Overloaded`)."""
        return len(self._pending_reports) + self._reserved_reports >= self.MAX_PENDING_REPORTS

    def reserve_report(self) -> None:
        """Hold a place in the write queue for a report still to be decided across an
        await (Redis), so the queue cannot fill meanwhile and refuse a report whose
        reporter has been heard: `add_report(..., reserved=True)` takes the place,
        `release_report` gives it back. Raises `Overloaded` if the queue is full."""
        if self.reports_full():
            raise Overloaded()
        self._reserved_reports += 1

    def release_report(self) -> None:
        self._reserved_reports -= 1

    async def add_report(self, report: NewReport, *, reserved: bool = False) -> str:
        """Store one report; returns its id once the write is committed (durable).

        Reports that arrive while a commit is in flight wait for the next one and are
        inserted together with one executemany: a per-row INSERT costs ~15 times
        more, and at outage scale that, not the commit, would be the ceiling.
        """
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.queue_report(report, future, reserved=reserved)
        return await future

    def queue_report(
        self, report: NewReport, future: asyncio.Future[str], *, reserved: bool = False
    ) -> None:
        """`add_report` for a caller that holds its own future: it gets the report's id
        once committed. Raises `Overloaded` at once if the queue is full."""
        if reserved:
            self._reserved_reports -= 1
        elif self.reports_full():
            raise Overloaded()
        self._pending_reports.append(report)
        self._report_futures.append(future)
        flusher = self._report_flusher
        if flusher is None or flusher.done():
            self._report_flusher = asyncio.create_task(self._flush_reports())

    async def _flush_reports(self) -> None:
        loop = asyncio.get_running_loop()
        while self._pending_reports:
            wait = self._report_commit_at + self.REPORT_COMMIT_EVERY - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            self._report_commit_at = loop.time()
            batch, self._pending_reports = self._pending_reports, []
            futures, self._report_futures = self._report_futures, []
            self._reports_writing = futures
            self._writing_stamp = None

            def write(conn: Connection, batch: list[NewReport] = batch) -> None:
                clock = self._report_clock
                stamp = self._writing_stamp = None if clock is None else clock()
                cursor = conn.connection.cursor()
                try:
                    self._report_insert.run(cursor, batch, stamp)
                finally:
                    cursor.close()

            try:
                await self.writer.submit(write)
            except Exception as exc:  # every caller in the batch hears why
                for future in futures:
                    if not future.done():
                        future.set_exception(exc)
            else:
                for report, future in zip(batch, futures, strict=True):
                    if not future.done():
                        future.set_result(report.id)

    async def settle_reports(self, at_most: float, before: datetime) -> None:
        """Wait, for at most `at_most` seconds, until the reports this process stores at a
        time before `before` are written (or failed): the minutes before it are rolled
        up only once their reports are in.

        Stored at their commit (`stamp_reports`), those are only the batch being
        written, if its time was read before `before`; every other is stored later, in
        a minute still to come, and waiting for them only held the roll-up back, up to
        `at_most` in a surge. Stored at their own times, every report taken so far."""
        if self._report_clock is None:
            waiting = [*self._reports_writing, *self._report_futures]
        else:
            stamp = self._writing_stamp
            waiting = self._reports_writing if stamp is not None and stamp < before else []
        if waiting:
            await asyncio.wait(waiting, timeout=at_most)

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
