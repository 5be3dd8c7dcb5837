"""DNS, TCP-connect and TLS-handshake probes (the HTTP probe lives in `http.py`)."""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from dataclasses import dataclass

from pantau.clock import Clock, SystemClock
from pantau.probes.certs import cert_error_kind, tls_facts
from pantau.probes.observation import ErrorKind, Observation, Phase, Timings
from pantau.probes.resolve import DnsClient, DnsFailure, is_ip_literal
from pantau.probes.ssrf import Guard, TargetRefused


@dataclass(frozen=True, slots=True)
class DnsCheck:
    name: str
    rdtype: str = "A"
    expect: tuple[str, ...] = ()
    """When given, at least one answer must be among these."""
    timeout: float = 5.0

    @property
    def url(self) -> str:
        return f"dns://{self.name}/{self.rdtype}"


@dataclass(frozen=True, slots=True)
class TcpCheck:
    host: str
    port: int
    timeout: float = 5.0

    @property
    def url(self) -> str:
        return f"tcp://{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class TlsCheck:
    host: str
    port: int = 443
    timeout: float = 5.0
    min_cert_days: float | None = 7.0

    @property
    def url(self) -> str:
        return f"tls://{self.host}:{self.port}"


def _ms(since: float, until: float | None = None) -> float:
    return round(((until if until is not None else time.perf_counter()) - since) * 1000, 3)


async def dns_check(dns: DnsClient, check: DnsCheck) -> Observation:
    started = time.perf_counter()
    try:
        answers = await dns.records(check.name, check.rdtype, lifetime=check.timeout)
    except DnsFailure as exc:
        return Observation(url=check.url, phase=Phase.DNS, error=exc.kind, error_detail=exc.detail,
                           timings=Timings(dns_ms=_ms(started), total_ms=_ms(started)))
    elapsed = _ms(started)
    failed: tuple[str, ...] = ()
    if check.expect and not set(answers) & set(check.expect):
        failed = (f"{check.rdtype} answers {', '.join(answers)} not among expected",)
    return Observation(url=check.url, phase=Phase.DONE, addresses=answers,
                       failed_assertions=failed,
                       timings=Timings(dns_ms=elapsed, total_ms=elapsed))


class SocketProber:
    """TCP and TLS checks, resolving and guarding targets like the HTTP probe does."""

    def __init__(
        self, dns: DnsClient, guard: Guard, *, ca_file: str | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.dns = dns
        self.guard = guard
        self._ssl = ssl.create_default_context(cafile=ca_file)
        self._clock = clock or SystemClock()

    async def tcp(self, check: TcpCheck) -> Observation:
        return await self._connect(check.url, check.host, check.port, check.timeout,
                                   tls=False, min_days=None)

    async def tls(self, check: TlsCheck) -> Observation:
        return await self._connect(check.url, check.host, check.port, check.timeout,
                                   tls=True, min_days=check.min_cert_days)

    async def _connect(
        self, url: str, host: str, port: int, limit: float, *, tls: bool, min_days: float | None
    ) -> Observation:
        """Connect, and for TLS checks also handshake, within `limit` seconds."""
        started = time.perf_counter()
        try:
            addresses = await self.dns.addresses(host, lifetime=limit)
            self.guard.check(host, addresses)
        except DnsFailure as exc:
            return Observation(url=url, phase=Phase.DNS, error=exc.kind, error_detail=exc.detail,
                               timings=Timings(dns_ms=_ms(started), total_ms=_ms(started)))
        except TargetRefused as exc:
            return Observation(url=url, phase=Phase.TARGET, error=ErrorKind.TARGET_REFUSED,
                               error_detail=str(exc))
        dns_ms = None if is_ip_literal(host) else _ms(started)
        loop = asyncio.get_running_loop()
        family = socket.AF_INET6 if ":" in addresses[0] else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setblocking(False)
        connect_started = time.perf_counter()
        phase, connect_ms, tls_ms, facts = Phase.CONNECT, None, None, None
        try:
            async with asyncio.timeout(limit):
                await loop.sock_connect(sock, (addresses[0], port))
                connect_ms = _ms(connect_started)
                if tls:
                    phase = Phase.TLS
                    tls_started = time.perf_counter()
                    _, writer = await asyncio.open_connection(
                        sock=sock, ssl=self._ssl, server_hostname=host
                    )
                    tls_ms = _ms(tls_started)
                    facts = tls_facts(writer.get_extra_info("ssl_object"), self._clock.now())
                    writer.close()
                    await writer.wait_closed()
        except (OSError, TimeoutError) as exc:
            return Observation(
                url=url, phase=phase, error=_kind(exc, phase), error_detail=str(exc)[:300],
                addresses=addresses,
                timings=Timings(dns_ms=dns_ms, connect_ms=connect_ms, total_ms=_ms(started)),
            )
        finally:
            # Also when cancelled mid-connect (a scheduler shutting down). After a TLS
            # check the stream has closed it already, and closing again is harmless.
            sock.close()
        return Observation(
            url=url, phase=Phase.DONE, addresses=addresses, peer=addresses[0], tls=facts,
            min_cert_days=min_days,
            timings=Timings(dns_ms=dns_ms, connect_ms=connect_ms, tls_ms=tls_ms,
                            total_ms=_ms(started)),
        )


def _kind(exc: BaseException, phase: Phase) -> ErrorKind:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return cert_error_kind(exc)
    if phase is Phase.TLS:
        return ErrorKind.TLS_HANDSHAKE
    if isinstance(exc, TimeoutError):
        return ErrorKind.CONNECT_TIMEOUT
    if isinstance(exc, ConnectionRefusedError):
        return ErrorKind.CONNECT_REFUSED
    return ErrorKind.UNREACHABLE
