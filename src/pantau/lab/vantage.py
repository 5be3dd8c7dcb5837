"""Vantage points: where probes (and the people near them) sit in the lab's world.

Each vantage point has its own resolver address (a `DnsServer` sharing the lab's
zone) and a canary URL, the kind of "can I reach the internet at all?" check a
probe makes before blaming a service. Cutting a vantage point off silences its
resolver and makes its canary reset connections, so a probe run "from" there fails
its own connectivity checks while every other vantage point still sees the service.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web

from pantau.lab.dns import DnsServer, DnsZone
from pantau.lab.origin import drop_connection, serve_loopback


@dataclass
class LabVantage:
    name: str
    region: str
    dns: DnsServer
    canary_url: str = ""
    cut: bool = False

    @property
    def dns_address(self) -> tuple[str, int]:
        return self.dns.address


@dataclass
class VantageNetwork:
    """All vantage points plus the one HTTP server answering their canaries."""

    zone: DnsZone
    vantages: dict[str, LabVantage] = field(default_factory=dict)
    port: int = 0
    _runner: web.AppRunner | None = None

    async def start(self, points: list[tuple[str, str]]) -> None:
        app = web.Application()
        app.router.add_get("/canary/{name}", self._canary)
        self._runner, self.port = await serve_loopback(app)
        for name, region in points:
            vantage = LabVantage(name, region, DnsServer(self.zone))
            vantage.dns = DnsServer(self.zone, silenced=_is_cut(vantage))
            await vantage.dns.start()
            vantage.canary_url = f"http://127.0.0.1:{self.port}/canary/{name}"
            self.vantages[name] = vantage

    async def close(self) -> None:
        for vantage in self.vantages.values():
            await vantage.dns.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _canary(self, request: web.Request) -> web.StreamResponse:
        vantage = self.vantages.get(request.match_info["name"])
        if vantage is None:
            raise web.HTTPNotFound()
        if vantage.cut:
            drop_connection(request, reset=True)
        return web.Response(status=204)


def _is_cut(vantage: LabVantage) -> Callable[[], bool]:
    return lambda: vantage.cut
