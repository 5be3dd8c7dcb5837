"""The whole lab in-process, on loopback: the API tests, the demo and benchmarks use.

    async with Lab.start(load_scenario("chatgpt-2025-01-23")) as lab:
        lab.dns_address          # ("127.0.0.1", port): authoritative for *.pantau.test
        lab.ca_file              # PEM of the lab CA (trust it for every lab HTTPS server)
        lab.catalog()            # pantau.catalog.Catalog pointing at the lab
        await lab.set_origin("chatgpt", OriginMode.HTTP_502)
        await lab.apply(scenario, timedelta(minutes=40))

`Lab.start()` accepts a `Scenario`, a list of `ServiceSpec`, or nothing (then one
service per CDN personality: `site-cloudflare`, `site-cloudfront`, `site-fastly`,
`site-akamai`, `site-nginx` and `site-direct` without CDN). Each service gets:

- an origin (`lab.services[slug].origin`, HTTPS on its own port, see `origin.py`),
- an edge with the service's CDN personality unless `cdn: none` (`edge.py`),
- names `<slug>`, `www.<slug>`, `api.<slug>`, `origin.<slug>` under `pantau.test`,
- a status page at `lab.services[slug].status_url` (`status_server.py`).

Public URLs are `https://<slug>.pantau.test:<port>/` (the edge's port, or the
origin's for services without CDN): resolve the name with the lab DNS, connect to
127.0.0.1. Vantage points (`lab.vantages`) each have a resolver and a canary URL.
Leaving the `async with` block closes every socket.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pantau.clock import Clock, SystemClock
from pantau.lab.certs import LAB_DOMAIN, LabCertificates
from pantau.lab.dns import DnsServer, DnsZone
from pantau.lab.edge import EdgeServer
from pantau.lab.modes import DnsMode, EdgeMode, OriginMode, PageMode, Personality
from pantau.lab.origin import OriginServer
from pantau.lab.scenario import Scenario, ServiceSpec, Vantage
from pantau.lab.state import LabState, initial_state, state_at
from pantau.lab.status_model import ComponentStatus, Impact, Incident, IncidentStatus
from pantau.lab.status_server import StatusServer
from pantau.lab.vantage import LabVantage, VantageNetwork

if TYPE_CHECKING:
    from pantau.catalog import Catalog


def personality_services() -> list[ServiceSpec]:
    """One service per CDN personality (and one without CDN), for fault matrices."""
    return [
        ServiceSpec(slug=f"site-{p.value if p is not Personality.NONE else 'direct'}",
                    name=f"Site behind {p.value}", cdn=p)
        for p in Personality
    ]


@dataclass
class LabService:
    spec: ServiceSpec
    origin: OriginServer
    edge: EdgeServer | None
    status_url: str

    @property
    def host(self) -> str:
        return f"{self.spec.slug}.{LAB_DOMAIN}"

    @property
    def port(self) -> int:
        return self.edge.port if self.edge is not None else self.origin.port

    @property
    def url(self) -> str:
        return f"https://{self.host}:{self.port}/"


class Lab:
    def __init__(
        self, services: Sequence[ServiceSpec], vantages: Sequence[Vantage], clock: Clock
    ) -> None:
        self.specs = list(services)
        self.clock = clock
        self.certs = LabCertificates()
        self.zone = DnsZone()
        self.dns = DnsServer(self.zone)
        self.status = StatusServer(clock)
        self.network = VantageNetwork(self.zone)
        self.services: dict[str, LabService] = {}
        self.state: LabState = initial_state(_holder(self.specs))
        self._vantage_specs = list(vantages)
        # Every part's close, so that a start failing half-way closes what did start
        # and one close failing does not skip the rest.
        self._parts = contextlib.AsyncExitStack()
        self._parts.callback(self.certs.close)

    @classmethod
    @contextlib.asynccontextmanager
    async def start(
        cls,
        scenario_or_services: Scenario | Sequence[ServiceSpec] | None = None,
        *,
        clock: Clock | None = None,
        vantages: Sequence[Vantage] = (),
        connect_timeout: float = 1.0,
        read_timeout: float = 5.0,
        slow_seconds: float = 2.0,
    ) -> AsyncIterator[Lab]:
        """Start every server; `read_timeout` is how long an edge waits for the origin."""
        if isinstance(scenario_or_services, Scenario):
            services, vantages = scenario_or_services.services, scenario_or_services.vantages
        else:
            services = list(scenario_or_services or personality_services())
        lab = cls(services, vantages, clock or SystemClock())
        try:
            await lab._start(connect_timeout, read_timeout, slow_seconds)
            yield lab
        finally:
            await lab.close()

    async def _start(self, connect_timeout: float, read_timeout: float, slow: float) -> None:
        # Each close is safe on a part that never started, and pushed before the start so
        # that a part failing half-way through its own start is closed too.
        parts = self._parts
        parts.push_async_callback(self.dns.close)
        await self.dns.start()
        parts.push_async_callback(self.status.close)
        await self.status.start()
        parts.push_async_callback(self.network.close)
        await self.network.start([(v.name, v.region) for v in self._vantage_specs])
        for spec in self.specs:
            origin = OriginServer(spec.slug, self.certs, slow_seconds=slow)
            parts.push_async_callback(origin.close)
            await origin.start()
            edge = None
            if spec.cdn is not Personality.NONE:
                edge = EdgeServer(spec.cdn, origin, self.certs, connect_timeout, read_timeout)
                parts.push_async_callback(edge.close)
                await edge.start()
            for prefix in ("", "www.", "api.", "origin."):
                self.zone.add(f"{prefix}{spec.slug}.{LAB_DOMAIN}")
            self.services[spec.slug] = LabService(
                spec, origin, edge, self.status.page_url(spec.slug)
            )
        self.status.pages = self.state.pages

    async def close(self) -> None:
        """Close every part started, the last started first; raises the last failure."""
        await self._parts.aclose()

    @property
    def dns_address(self) -> tuple[str, int]:
        return self.dns.address

    @property
    def ca_file(self) -> Path:
        return self.certs.ca_file

    @property
    def vantages(self) -> dict[str, LabVantage]:
        return self.network.vantages

    def _service(self, slug: str) -> LabService:
        try:
            return self.services[slug]
        except KeyError:
            raise KeyError(f"the lab has no service {slug!r}") from None

    async def set_origin(self, service: str, mode: OriginMode | str) -> None:
        mode = OriginMode(mode)
        await self._service(service).origin.set_mode(mode)
        self.state.origin[service] = mode

    def set_edge(self, service: str, mode: EdgeMode | str) -> None:
        edge = self._service(service).edge
        if edge is None:
            raise ValueError(f"{service} has no CDN edge")
        edge.set_mode(EdgeMode(mode))
        self.state.edge[service] = EdgeMode(mode)

    def set_dns(self, service: str, mode: DnsMode | str) -> None:
        self._service(service)
        self.zone.modes[service] = self.state.dns[service] = DnsMode(mode)

    def set_page_mode(self, service: str, mode: PageMode | str) -> None:
        self._service(service)
        self.status.modes[service] = PageMode(mode)

    def cut_vantage(self, name: str, cut: bool = True) -> None:
        self.vantages[name].cut = cut
        if cut:
            self.state.cut.add(name)
        else:
            self.state.cut.discard(name)

    def post_status(
        self,
        service: str,
        incident: str,
        status: IncidentStatus,
        body: str = "",
        *,
        title: str | None = None,
        impact: Impact | None = None,
        components: dict[str, ComponentStatus] | None = None,
        scheduled_for: datetime | None = None,
        scheduled_until: datetime | None = None,
        at: datetime | None = None,
    ) -> Incident:
        """Post an update to `service`'s official page (a new incident needs a title)."""
        self._service(service)
        return self.state.pages[service].post(
            incident, at or self.clock.now(), status, body, title=title, impact=impact,
            components=components, scheduled_for=scheduled_for, scheduled_until=scheduled_until,
        )

    async def apply(self, scenario: Scenario, offset: timedelta) -> LabState:
        """Put every server into the state `scenario` describes at `offset`."""
        state = state_at(scenario, offset)
        for slug in self.services:
            if slug not in state.origin:
                # A service the scenario does not name keeps whatever it was doing.
                state.origin[slug] = self.state.origin[slug]
                state.edge[slug] = self.state.edge[slug]
                state.dns[slug] = self.state.dns[slug]
                state.pages[slug] = self.state.pages[slug]
        for slug in self.services:
            await self.set_origin(slug, state.origin[slug])
            if self.services[slug].edge is not None:
                self.set_edge(slug, state.edge[slug])
            self.set_dns(slug, state.dns[slug])
        for name, vantage in self.vantages.items():
            vantage.cut = name in state.cut
        self.state = state
        self.status.pages = state.pages
        return state

    def catalog_data(self) -> dict[str, Any]:
        """The lab's services in the catalog YAML shape (see `pantau.catalog`)."""
        entries = []
        for slug, service in self.services.items():
            spec = service.spec
            entries.append({
                "slug": slug,
                "name": spec.name,
                "aliases": list(spec.aliases),
                "category": spec.category,
                "endpoints": [
                    {"url": service.url, "kind": "web"},
                    {"url": f"{service.url}api/status", "kind": "api"},
                ],
                "status_page": {"url": service.status_url, "kind": spec.status_page.value},
                **({"cdn": spec.cdn.value} if spec.cdn is not Personality.NONE else {}),
                "notes": "pantau outage lab",
            })
        return {"services": entries}

    def catalog(self) -> Catalog:
        from pantau.catalog import Catalog

        return Catalog.model_validate(self.catalog_data())


def _holder(specs: Sequence[ServiceSpec]) -> Scenario:
    # initial_state only needs the services; a throwaway scenario carries them.
    return Scenario(name="lab", start=datetime(2025, 1, 1, tzinfo=UTC),
                    duration=timedelta(0), services=list(specs))
