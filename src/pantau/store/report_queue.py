"""The write side of crowd reports: a bounded queue, group commits, and settling.

Reports are the one write that comes at outage scale; they wait in memory for the next
group commit (one INSERT of many rows), each caller answered once its row is durable.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from pantau.store.base import StoreBase
from pantau.store.report_insert import NewReport, ReportInsert
from pantau.store.writer import Overloaded


class ReportQueueMixin(StoreBase):
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
