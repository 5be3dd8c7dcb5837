"""Group commit: many callers' writes share one transaction, and each caller is answered
only after that transaction has committed.

There is one writer per process. On SQLite this is also the "one writer" rule: no two
write transactions in this process compete for the database lock.

The writer keeps one connection, used from one thread of its own, for its whole life.
Opening one per group commit cost more than the commit itself on SQLite: each open
set the pragmas again, and each close of the last connection checkpointed the WAL
into the database file and removed it (two more fsyncs per batch, bench/ingest.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from pantau.store.engine import WRITE_OPTION

T = TypeVar("T")
WriteFn = Callable[[Connection], T]
log = logging.getLogger(__name__)


class Overloaded(RuntimeError):
    """The write queue is full; the caller should answer 503 with Retry-After."""

    def __init__(self, retry_after: int = 1) -> None:
        super().__init__("the store is busy; try again shortly")
        self.retry_after = retry_after


class WriterClosed(RuntimeError):
    """The writer is stopped and takes no more work."""


@dataclass(slots=True)
class _Job:
    fn: WriteFn[Any]
    future: asyncio.Future[Any]


class BatchWriter:
    def __init__(
        self,
        engine: Engine,
        *,
        max_queue: int = 10_000,
        max_batch: int = 1_000,
    ) -> None:
        self._engine = engine.execution_options(**{WRITE_OPTION: True})
        self._queue: asyncio.Queue[_Job] = asyncio.Queue(max_queue)
        self._max_batch = max_batch
        self._task: asyncio.Task[None] | None = None
        self._thread: ThreadPoolExecutor | None = None
        self._conn: Connection | None = None  # touched only from the writer's thread
        self.batches = 0
        self.writes = 0

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    def start(self) -> None:
        if self._task is None:
            self._thread = ThreadPoolExecutor(1, thread_name_prefix="pantau-writer")
            self._task = asyncio.get_running_loop().create_task(self._run(), name="writer")

    async def stop(self) -> None:
        """Finish every write already accepted, then stop."""
        task, self._task = self._task, None
        if task is None:
            return
        await self._queue.join()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        thread, self._thread = self._thread, None
        if thread is not None:
            await asyncio.get_running_loop().run_in_executor(thread, self._disconnect)
            thread.shutdown()

    async def submit(self, fn: WriteFn[T]) -> T:
        """Run `fn(conn)` in the next group transaction; return once it is committed."""
        if self._task is None:
            raise WriterClosed("the store writer is not running")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        try:
            self._queue.put_nowait(_Job(fn, future))
        except asyncio.QueueFull:
            raise Overloaded() from None
        return await future

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                loop = asyncio.get_running_loop()
                outcomes = await loop.run_in_executor(self._thread, self._commit, batch)
            except Exception as exc:  # the database itself failed: every caller hears it
                log.exception("group commit failed")
                outcomes = [exc] * len(batch)
            for job, outcome in zip(batch, outcomes, strict=True):
                if not job.future.done():
                    if isinstance(outcome, BaseException):
                        job.future.set_exception(outcome)
                    else:
                        job.future.set_result(outcome)
                self._queue.task_done()

    def _connection(self) -> Connection:
        conn = self._conn
        if conn is None or conn.closed or conn.invalidated:
            self._disconnect()  # a connection the database dropped is opened anew
            conn = self._conn = self._engine.connect()
        return conn

    def _disconnect(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()

    def _commit(self, batch: list[_Job]) -> list[object]:
        try:
            conn = self._connection()
            with conn.begin():
                results = [job.fn(conn) for job in batch]
            self.batches += 1
            self.writes += len(batch)
            return results
        except Exception:
            if len(batch) == 1:
                raise
        # One write spoilt the group: commit each on its own, so only the bad one fails.
        outcomes: list[object] = []
        for job in batch:
            try:
                outcomes.extend(self._commit([job]))
            except Exception as exc:
                outcomes.append(exc)
        return outcomes
