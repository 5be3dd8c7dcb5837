"""The background job of `pantau serve`: poll every catalog status page, forever.

Each page is polled once however many services share it, on its own jittered
interval, backing off while it fails. Every poll is recorded (state, error, archive).
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass

import httpx
from sqlalchemy.exc import SQLAlchemyError

from pantau.catalog import Catalog, StatusPageKind
from pantau.clock import Clock
from pantau.official.detect import ADAPTERS, CATALOG_KINDS, detect
from pantau.official.errors import PageError
from pantau.official.fetch import new_client
from pantau.official.model import PageKind
from pantau.official.poller import PagePoller, next_delay
from pantau.probes.ssrf import Guard
from pantau.runtime import Runtime
from pantau.store.official import OfficialStoreMixin
from pantau.store.writer import Overloaded

log = logging.getLogger(__name__)

DEFAULT_INTERVAL = 120.0
"""Seconds between polls of a healthy page: vendors update within minutes, and each
poll is a conditional request that mostly answers 304."""
DEFAULT_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class Watch:
    url: str
    kind: PageKind | None
    """None: the catalog said `auto`; detected on the first poll."""


def watches(catalog: Catalog) -> list[Watch]:
    """One watch per distinct status page URL in the catalog."""
    seen: dict[str, Watch] = {}
    for service in catalog.services:
        page = service.status_page
        if page is None:
            continue
        url = str(page.url)
        if url not in seen or seen[url].kind is None:
            seen[url] = Watch(url, CATALOG_KINDS[StatusPageKind(page.kind).value])
    return list(seen.values())


async def watch_page(
    store: OfficialStoreMixin,
    client: httpx.AsyncClient,
    clock: Clock,
    watch: Watch,
    *,
    interval: float = DEFAULT_INTERVAL,
    page_timeout: float = DEFAULT_TIMEOUT,
    rng: random.Random,
) -> None:
    """Poll one page until cancelled."""
    kind, url, failures = watch.kind, watch.url, 0
    # Spread the first polls so a server start does not hit every page at once.
    await clock.sleep(rng.uniform(0, min(interval, 10.0)))
    while kind is None:
        try:
            kind, url = await detect(client, watch.url, seconds=page_timeout)
        except PageError as exc:
            failures += 1
            # Without a kind there is no snapshot; the error is still recorded under the
            # catalog's URL so the API can say why the page is blank.
            try:
                await store.official_record_poll(
                    watch.url, PageKind.FEED, clock.now(), None, error=exc, failures=failures
                )
            except (Overloaded, SQLAlchemyError) as db_exc:
                log.warning("official page %s: not recorded: %s", watch.url, db_exc)
            await clock.sleep(next_delay(interval, failures, rng))
    poller = PagePoller(url, ADAPTERS[kind], client, clock, timeout=page_timeout)
    # After a restart the stored snapshot is the last known state until the page answers.
    try:
        stored = await store.official_page(watch.url)
    except SQLAlchemyError as exc:
        log.warning("official page %s: stored state unreadable: %s", watch.url, exc)
        stored = None
    if stored is not None and stored.snapshot is not None and stored.snapshot.kind is kind:
        poller.snapshot = stored.snapshot
    while True:
        result = await poller.poll()
        if result.error is not None:
            log.info("official page %s: %s", watch.url, result.error.message)
        try:
            await store.official_record_poll(
                watch.url,
                kind,
                clock.now(),
                result.snapshot,
                error=result.error,
                failures=poller.failures,
                archive=result.parsed > 0,
            )
        except (Overloaded, SQLAlchemyError) as exc:
            # The database being busy or away must not cost the poller its cache and
            # state; the next fresh read archives what this one could not.
            log.warning("official page %s: not recorded: %s", watch.url, exc)
            poller.forget_validators()
        await clock.sleep(next_delay(interval, poller.failures, rng))


async def run(
    ctx: Runtime, *, interval: float = DEFAULT_INTERVAL, page_timeout: float = DEFAULT_TIMEOUT
) -> None:
    store = ctx.store
    if not isinstance(store, OfficialStoreMixin):
        raise TypeError("the store lacks OfficialStoreMixin: add it to Store's bases")
    rng = random.Random()
    guard = Guard(allow_private=ctx.settings.allow_private_targets)
    async with new_client(guard) as client, asyncio.TaskGroup() as group:
        for watch in watches(ctx.catalog):
            group.create_task(
                watch_page(
                    store,
                    client,
                    ctx.clock,
                    watch,
                    interval=interval,
                    page_timeout=page_timeout,
                    rng=rng,
                )
            )
