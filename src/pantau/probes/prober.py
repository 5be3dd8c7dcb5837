"""One entry point for every probe type, sharing resolver, guard, TLS trust and session."""

from __future__ import annotations

from yarl import URL

from pantau.clock import Clock
from pantau.probes.http import HttpCheck, HttpProber
from pantau.probes.netchecks import DnsCheck, SocketProber, TcpCheck, TlsCheck, dns_check
from pantau.probes.observation import Observation
from pantau.probes.resolve import DnsClient
from pantau.probes.ssrf import Guard

Check = HttpCheck | DnsCheck | TcpCheck | TlsCheck


def check_host(check: Check) -> str:
    """The host a check talks to: what per-host politeness counts."""
    if isinstance(check, HttpCheck):
        return (URL(check.url).host or "").lower()
    if isinstance(check, DnsCheck):
        return check.name.lower()
    return check.host.lower()


class Prober:
    """Use as an async context manager; `run` never raises for a failing target."""

    def __init__(
        self, dns: DnsClient, guard: Guard, *, ca_file: str | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.dns = dns
        self.http = HttpProber(dns, guard, ca_file=ca_file, clock=clock)
        self.sockets = SocketProber(dns, guard, ca_file=ca_file, clock=clock)

    async def __aenter__(self) -> Prober:
        await self.http.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.http.__aexit__(*exc)

    async def run(self, check: Check) -> Observation:
        if isinstance(check, HttpCheck):
            return await self.http.check(check)
        if isinstance(check, DnsCheck):
            return await dns_check(self.dns, check)
        if isinstance(check, TcpCheck):
            return await self.sockets.tcp(check)
        return await self.sockets.tls(check)
