"""Name resolution for probes, timed and with failures named by kind.

With explicit resolvers (`HOST:PORT`, e.g. the lab's DNS server) dnspython asks them
directly; without, the system resolver answers (so /etc/hosts and the operator's own
DNS behave as they do for a browser on that machine).
"""

from __future__ import annotations

import asyncio
import errno
import functools
import ipaddress
import socket
from collections.abc import Sequence
from dataclasses import dataclass

import dns.asyncresolver
import dns.exception
import dns.nameserver
import dns.resolver

from pantau.probes.observation import ErrorKind


class DnsFailure(Exception):
    def __init__(self, kind: ErrorKind, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Nameserver:
    host: str
    port: int = 53

    @classmethod
    def parse(cls, text: str) -> Nameserver:
        """`HOST`, `HOST:PORT` or `[V6]:PORT`; raises ValueError on anything else."""
        host, port = text.strip(), 53
        if host.startswith("["):
            host, _, rest = host[1:].partition("]")
            if rest:
                port = int(rest.removeprefix(":"))
        elif host.count(":") == 1:
            host, _, port_text = host.partition(":")
            port = int(port_text)
        ipaddress.ip_address(host)  # resolvers are given as addresses
        if not 0 < port < 65536:
            raise ValueError(f"port out of range: {port}")
        return cls(host, port)


@functools.lru_cache(maxsize=4096)  # monitors ask about the same hosts every interval
def is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class DnsClient:
    """Resolves names to addresses; optionally caches answers for their TTL."""

    def __init__(self, nameservers: Sequence[Nameserver] = (), *, cache: bool = False) -> None:
        self.nameservers = tuple(nameservers)
        self._resolver: dns.asyncresolver.Resolver | None = None
        if self.nameservers:
            resolver = dns.asyncresolver.Resolver(configure=False)
            resolver.nameservers = [
                dns.nameserver.Do53Nameserver(ns.host, ns.port) for ns in self.nameservers
            ]
            if cache:
                resolver.cache = dns.resolver.Cache()
            self._resolver = resolver

    async def addresses(self, host: str, *, lifetime: float) -> tuple[str, ...]:
        """IPv4 addresses of `host` (IPv6 when it has none), or `DnsFailure`."""
        if is_ip_literal(host):
            return (host,)
        if self._resolver is None:
            return await _system_addresses(host, lifetime)
        try:
            found = await _query(self._resolver, host, "A", lifetime)
        except DnsFailure as exc:
            if exc.kind is not ErrorKind.NO_ADDRESS:
                raise
            found = await _query(self._resolver, host, "AAAA", lifetime)
        return tuple(sorted(set(found)))

    async def records(self, name: str, rdtype: str, *, lifetime: float) -> tuple[str, ...]:
        """Any record type (A, AAAA, CNAME, ...) as text; same failures as `addresses`."""
        resolver = self._resolver or dns.asyncresolver.Resolver()
        return await _query(resolver, name, rdtype, lifetime)


async def _query(
    resolver: dns.asyncresolver.Resolver, name: str, rdtype: str, lifetime: float
) -> tuple[str, ...]:
    try:
        answer = await resolver.resolve(name, rdtype, lifetime=lifetime)
    except dns.resolver.NXDOMAIN as exc:
        raise DnsFailure(ErrorKind.NXDOMAIN, f"{name}: no such name") from exc
    except dns.resolver.NoAnswer as exc:
        raise DnsFailure(ErrorKind.NO_ADDRESS, f"{name}: no {rdtype} records") from exc
    except dns.resolver.NoNameservers as exc:
        raise DnsFailure(ErrorKind.SERVFAIL, f"{name}: {exc}") from exc
    except dns.exception.Timeout as exc:
        raise DnsFailure(ErrorKind.DNS_TIMEOUT, f"{name}: no answer in {lifetime:g}s") from exc
    except dns.exception.DNSException as exc:
        # What is left is a name DNS cannot even ask about (a label over 63 octets, an
        # empty label): no such name can exist.
        raise DnsFailure(ErrorKind.NXDOMAIN, f"{name}: not a valid DNS name ({exc})") from exc
    return tuple(r.to_text() for r in answer)


async def _system_addresses(host: str, lifetime: float) -> tuple[str, ...]:
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(lifetime):
            infos = await loop.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except TimeoutError as exc:
        raise DnsFailure(ErrorKind.DNS_TIMEOUT, f"{host}: no answer in {lifetime:g}s") from exc
    except UnicodeError as exc:  # the IDNA encoding refuses the name before any lookup
        raise DnsFailure(ErrorKind.NXDOMAIN, f"{host}: not a valid DNS name") from exc
    except socket.gaierror as exc:
        if exc.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", errno.ENOENT)):
            raise DnsFailure(ErrorKind.NXDOMAIN, f"{host}: no such name") from exc
        if exc.errno == socket.EAI_AGAIN:
            raise DnsFailure(ErrorKind.DNS_TIMEOUT, f"{host}: {exc.strerror}") from exc
        raise DnsFailure(ErrorKind.SERVFAIL, f"{host}: {exc.strerror}") from exc
    v4 = sorted({str(i[4][0]) for i in infos if i[0] == socket.AF_INET})
    v6 = sorted({str(i[4][0]) for i in infos if i[0] == socket.AF_INET6})
    if not (v4 or v6):
        raise DnsFailure(ErrorKind.NO_ADDRESS, f"{host}: no addresses")
    return tuple(v4 or v6)
