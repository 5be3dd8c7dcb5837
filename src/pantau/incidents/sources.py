"""Read the latest signals of every catalog service from the other domains' store methods.

The one place where fusion depends on how crowd, probe and official results are stored.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pantau.catalog import Catalog, Service
from pantau.incidents.engine import ServiceInput
from pantau.incidents.fuse import FusionConfig
from pantau.official.mapping import service_components
from pantau.signals import CrowdMinute, OfficialStatus, ProbeVerdict
from pantau.store.official import OfficialStoreMixin
from pantau.store.probes import ProbesStoreMixin
from pantau.store.reports import ReportsStoreMixin

MINUTE = timedelta(minutes=1)

PROBE_LIMIT = 200_000
"""The store returns the oldest rows first; the limit must never cut the newest minutes."""


async def official_status(store: object, service: Service) -> OfficialStatus | None:
    """What the service's status page says, narrowed to the service's own components."""
    if service.status_page is None or not isinstance(store, OfficialStoreMixin):
        return None
    record = await store.official_page(str(service.status_page.url))
    if record is None or record.snapshot is None:
        return None
    snap = record.snapshot
    return snap.to_signal(service.slug,
                          components=service_components(service, snap.components))


async def probe_verdicts(store: object, at: datetime) -> dict[str, list[ProbeVerdict]]:
    """Every service's probe verdicts recent enough for fusion to consider at `at`."""
    if not isinstance(store, ProbesStoreMixin):
        return {}
    by_service: dict[str, list[ProbeVerdict]] = {}
    since = at - FusionConfig().probe_freshness
    for v in await store.probe_verdicts(since, limit=PROBE_LIMIT):
        by_service.setdefault(v.service, []).append(v)
    return by_service


async def crowd_minutes(store: object, at: datetime) -> dict[str, list[CrowdMinute]]:
    """Each service's detector minutes in fusion's crowd window up to `at`, oldest first."""
    if not isinstance(store, ReportsStoreMixin):
        return {}
    config = FusionConfig()
    by_service: dict[str, list[CrowdMinute]] = {}
    for m in await store.crowd_minutes(at - config.crowd_window, at + MINUTE):
        by_service.setdefault(m.service, []).append(m)
    return by_service


async def gather(store: object, catalog: Catalog, at: datetime) -> list[ServiceInput]:
    probes = await probe_verdicts(store, at)
    crowd = await crowd_minutes(store, at)
    out = []
    for service in catalog.services:
        minutes = crowd.get(service.slug, [])
        out.append(ServiceInput(
            slug=service.slug, name=service.name, cdn=service.cdn,
            crowd=minutes[-1] if minutes else None, crowd_recent=minutes[:-1],
            probes=probes.get(service.slug, ()),
            official=await official_status(store, service),
        ))
    return out
