"""Group commit: many callers' writes share one transaction, and each caller is answered
only after that transaction has committed.

There is one writer per process. On SQLite this is also the "one writer" rule: no two
write transactions in this process compete for the database lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
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
        self.batches = 0
        self.writes = 0

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    def start(self) -> None:
        if self._task is None:
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
                outcomes = await asyncio.to_thread(self._commit, batch)
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

    def _commit(self, batch: list[_Job]) -> list[object]:
        try:
            with self._engine.begin() as conn:
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
