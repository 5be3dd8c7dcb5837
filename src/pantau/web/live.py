"""One watcher per process for live pages: streams wait on it instead of each polling.

However many browsers follow a service page, the process asks the store for the services'
latest fused minutes once per interval and wakes the streams whose service changed; the
streams of one service and zone then share one loading of its view (`shared_view`), not
one each: during an outage thousands of pages stay open, and each loading is several
database round trips. The watcher runs only while streams listen.
With Redis, the fusion job announces each fused minute on `CHANNEL`, so every process
looks at once instead of at its next interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from datetime import datetime
from functools import partial
from typing import Any

from redis.asyncio import Redis

from pantau.incidents.job import CHANNEL
from pantau.store.incidents import IncidentStoreMixin

log = logging.getLogger(__name__)


class LiveHub:
    def __init__(self, store: IncidentStoreMixin, interval: float = 2.0,
                 redis: Redis | None = None) -> None:
        self.store = store
        self.interval = interval
        self.redis = redis
        self.versions: dict[str, datetime] = {}
        self._changed = asyncio.Condition()
        self._listeners = 0
        self._task: asyncio.Task[None] | None = None
        self._views: dict[Hashable, asyncio.Future[dict[str, Any]]] = {}
        self._views_minute: datetime | None = None

    async def _refresh(self) -> None:
        versions = await self.store.state_versions()
        if versions != self.versions:
            self.versions = versions
            self._views.clear()  # loaded at the versions before
            async with self._changed:
                self._changed.notify_all()

    async def _watch(self) -> None:
        # One task serves every reader of the process: a store or Redis hiccup must not
        # end live updates for all of them until the last one leaves.
        while True:
            try:
                await self._follow()
            except Exception:
                log.warning("live pages: cannot watch for new minutes; retrying",
                            exc_info=True)
                await asyncio.sleep(self.interval)

    async def _follow(self) -> None:
        if self.redis is None:
            while True:
                await self._refresh()
                await asyncio.sleep(self.interval)
        async with self.redis.pubsub() as pubsub:
            await pubsub.subscribe(CHANNEL)
            while True:
                await self._refresh()
                # An announcement, or the interval as a safety net should one be lost.
                await pubsub.get_message(ignore_subscribe_messages=True, timeout=self.interval)

    @contextlib.asynccontextmanager
    async def listening(self) -> AsyncIterator[None]:
        self._listeners += 1
        if self._task is None:
            self._task = asyncio.create_task(self._watch(), name="live-hub")
        try:
            yield
        finally:
            self._listeners -= 1
            if self._listeners == 0 and self._task is not None:
                self._task.cancel()
                self._task = None

    async def shared_view(
        self, key: Hashable, load: Callable[[], Awaitable[dict[str, Any]]],
        now: datetime | None = None,
    ) -> dict[str, Any]:
        """The view `load` gives, loaded once for every stream asking with `key` (which
        names the service, the reader's zone and the version seen) until the versions
        change, or the minute of `now` does: a view also says whether its data have gone
        stale, which comes with no new version (kept until then, a page left open said
        "down" for ever once fusion stopped). A loading that fails is not kept: the next
        stream to ask loads anew."""
        if now is not None:
            minute = now.replace(second=0, microsecond=0)
            if minute != self._views_minute:
                self._views_minute = minute
                self._views.clear()
        view = self._views.get(key)
        if view is None:
            view = self._views[key] = asyncio.ensure_future(load())
            view.add_done_callback(partial(self._forget_failed, key))
        # Shielded: a reader who leaves must not cancel the loading the others wait for.
        return await asyncio.shield(view)

    def _forget_failed(self, key: Hashable, view: asyncio.Future[dict[str, Any]]) -> None:
        if (view.cancelled() or view.exception() is not None) and self._views.get(key) is view:
            del self._views[key]

    async def wait(self, slug: str, seen: datetime | None, seconds: float) -> bool:
        """Until `slug`'s fused minute differs from `seen` (True) or `seconds` pass."""
        try:
            async with asyncio.timeout(seconds), self._changed:
                await self._changed.wait_for(lambda: self.versions.get(slug) != seen)
        except TimeoutError:
            return False
        return True
