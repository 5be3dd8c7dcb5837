"""The probe scheduler as a background job of `pantau serve`."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

from pantau.catalog import Catalog
from pantau.clock import Clock
from pantau.probes.assertions import ContentRules
from pantau.probes.http import HttpCheck
from pantau.probes.prober import Check, Prober
from pantau.probes.resolve import DnsClient, Nameserver
from pantau.probes.scheduler import Monitor, Scheduler
from pantau.probes.ssrf import Guard
from pantau.probes.vantage import SelfCheck

if TYPE_CHECKING:
    from pantau.runtime import Runtime
    from pantau.store.probes import ProbesStoreMixin

DEFAULT_INTERVAL = 60.0

# Independent operators' connectivity-check endpoints, the ones phones and laptops ask to
# detect captive portals: each answers an empty 204 over plain HTTP to anyone, so any
# other answer means a portal or proxy stands in between. `pantau check` asks them from
# the reader's machine; a production server asks them only after one of its checks failed.
CONNECTIVITY_URLS = (
    "http://connectivitycheck.gstatic.com/generate_204",
    "http://cp.cloudflare.com/generate_204",
    "http://edge-http.microsoft.com/captiveportal/generate_204",
)


def connectivity_check(url: str, timeout: float = 5) -> HttpCheck:
    """Passes on the empty 204 itself only, never on a portal's redirect to its login."""
    return HttpCheck(url, expected_status=(204,), follow_redirects=False, timeout=timeout)


PUBLIC_CONNECTIVITY_TARGETS: tuple[Check, ...] = tuple(
    connectivity_check(url) for url in CONNECTIVITY_URLS
)


def monitors_from_catalog(catalog: Catalog, interval: float = DEFAULT_INTERVAL) -> list[Monitor]:
    monitors = []
    for service in catalog.services:
        for endpoint in service.endpoints:
            url = str(endpoint.url)
            check = HttpCheck(
                url=url,
                expected_status=endpoint.expect_status,
                content=ContentRules(keyword=endpoint.keyword),
            )
            monitors.append(Monitor(id=f"{service.slug} {endpoint.kind.value} {url}",
                                    service=service.slug, check=check, interval=interval))
    return monitors


async def run_scheduler(
    ctx: Runtime, monitors: Sequence[Monitor], self_check_targets: Sequence[Check]
) -> None:
    """Run `monitors` from this vantage until cancelled, writing to the runtime's store."""
    # Imported here: the store imports this package's types, so a top-level import
    # would make `import pantau.store` and `import pantau.probes` depend on their order.
    from pantau.store.probes import ProbesStoreMixin

    settings = ctx.settings
    store = ctx.store
    if not isinstance(store, ProbesStoreMixin):
        raise TypeError("the store lacks ProbesStoreMixin: add it to Store's bases")
    # Monitors re-resolve every interval; caching answers for their TTL keeps 10k
    # monitors from flooding the resolver while still following DNS changes.
    dns = DnsClient([Nameserver.parse(r) for r in settings.resolvers], cache=True)
    guard = Guard(allow_private=settings.allow_private_targets)
    ca_file = str(settings.ca_file) if settings.ca_file else None
    async with Prober(dns, guard, ca_file=ca_file, clock=ctx.clock) as prober:
        scheduler = Scheduler(
            monitors, prober, store.probe_record, ctx.clock,
            vantage=settings.vantage,
            self_check=SelfCheck(prober, self_check_targets, ctx.clock,
                                 quorum=min(2, len(self_check_targets)) or 1),
            states=await store.monitor_states(),
        )
        async with asyncio.TaskGroup() as group:
            group.create_task(scheduler.run())
            group.create_task(_prune(store, ctx.clock, settings.retention_days))


async def _prune(store: ProbesStoreMixin, clock: Clock, days: int) -> None:
    """Keep raw results for the retention period, checking hourly."""
    while True:
        await store.probe_prune(clock.now() - timedelta(days=days))
        await clock.sleep(3600)


async def run(ctx: Runtime) -> None:
    """Probe every catalog endpoint until cancelled."""
    settings = ctx.settings
    targets: tuple[Check, ...] = tuple(
        HttpCheck(url, expected_status=(200, 204), timeout=5) for url in settings.vantage_targets
    )
    if not targets and settings.environment == "production":
        targets = PUBLIC_CONNECTIVITY_TARGETS
    monitors = monitors_from_catalog(ctx.catalog, settings.probe_interval)
    await run_scheduler(ctx, monitors, targets)
