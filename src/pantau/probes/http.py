"""The HTTP(S) probe: resolve, guard, connect to the checked address, time every phase.

aiohttp does the HTTP. Two small hooks make the phases attributable: a resolver that
only hands the connector the addresses this probe resolved and the SSRF guard passed
(so the connection cannot go anywhere else, whatever DNS says by then), and a
connector that stamps the moment the TCP connection is up and the moment TLS is done.
Every check opens a fresh connection: a monitor must see connect and TLS each time.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import socket
import ssl
import time
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from pantau.clock import Clock, SystemClock
from pantau.probes.assertions import ContentRules
from pantau.probes.certs import cert_error_kind, tls_facts
from pantau.probes.observation import ErrorKind, Observation, Phase, Timings, TlsFacts
from pantau.probes.resolve import DnsClient, DnsFailure, is_ip_literal
from pantau.probes.ssrf import Guard, TargetRefused

USER_AGENT = "pantau-probe/0.1 (+https://github.com/pantau)"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
# Headers that speak for the requester to one origin: never handed on to another.
_CREDENTIALS = frozenset({"authorization", "proxy-authorization", "cookie"})
# Headers that describe a body: gone with the body when a redirect turns it into a GET.
_BODY_HEADERS = frozenset({"content-type", "content-length", "content-encoding",
                           "transfer-encoding"})


@dataclass(frozen=True, slots=True)
class HttpCheck:
    url: str
    method: str = "GET"
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes | None = None
    expected_status: tuple[int, ...] = ()
    content: ContentRules = field(default_factory=ContentRules)
    follow_redirects: bool = True
    max_redirects: int = 5
    timeout: float = 10.0
    min_cert_days: float | None = None
    slow_ms: float | None = None


@dataclass(frozen=True, slots=True)
class Request:
    """What one hop of a check sends."""

    url: URL
    method: str
    headers: Mapping[str, str]
    body: bytes | None


def redirected(request: Request, status: int, target: URL) -> Request:
    """The request a redirect leads to, made as browsers and httpx make it.

    303, and 301 or 302 after a POST, become a GET without the body (and its headers);
    307 and 308 repeat the request as it was. Credentials and cookies go to another
    origin (scheme, host or port) never, so a redirect cannot make a probe hand them
    to a host its operator did not name.
    """
    method, body, headers = request.method, request.body, dict(request.headers)
    if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
        method, body = "GET", None
        headers = {k: v for k, v in headers.items() if k.lower() not in _BODY_HEADERS}
    if _origin(target) != _origin(request.url):
        headers = {k: v for k, v in headers.items() if k.lower() not in _CREDENTIALS}
    return Request(target, method, headers, body)


def _origin(url: URL) -> tuple[str, str, int | None]:
    return url.scheme, (url.raw_host or "").rstrip(".").lower(), url.port


@dataclass(slots=True)
class _Hop:
    """Per-request stamps, shared with the connector hooks through a context variable."""

    host: str
    addresses: tuple[str, ...]
    started: float = 0.0
    tcp_done: float | None = None
    conn_done: float | None = None
    peer: str | None = None
    tls: TlsFacts | None = None


_HOP: contextvars.ContextVar[_Hop] = contextvars.ContextVar("pantau_probe_hop")


class _CheckedResolver(AbstractResolver):
    """Answers only with the addresses the current probe already resolved and checked."""

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        hop = _HOP.get(None)
        if hop is None or hop.host != host.rstrip("."):
            # Never let the connector resolve on its own: that would bypass the guard.
            raise OSError(f"{host} was not resolved by the probe")
        return [
            {
                "hostname": host,
                "host": address,
                "port": port,
                "family": socket.AF_INET6 if ":" in address else socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
            for address in hop.addresses
        ]

    async def close(self) -> None:
        return None


class _PhaseConnector(aiohttp.TCPConnector):
    """Stamps TCP-up and TLS-done times and keeps the peer's certificate facts.

    aiohttp has no public hook between the TCP connect and the TLS handshake; asyncio
    calls the protocol factory exactly there, so wrapping it marks the boundary.
    """

    def __init__(self, clock: Clock, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._clock = clock
        self.transports: weakref.WeakSet[asyncio.BaseTransport] = weakref.WeakSet()

    async def _wrap_create_connection(self, *args: Any, **kwargs: Any) -> Any:
        hop = _HOP.get(None)
        if hop is None:
            return await super()._wrap_create_connection(*args, **kwargs)
        factory = args[0]

        def stamped() -> Any:
            hop.tcp_done = time.perf_counter()
            return factory()

        transport, protocol = await super()._wrap_create_connection(
            stamped, *args[1:], **kwargs
        )
        hop.conn_done = time.perf_counter()
        self.transports.add(transport)
        peer = transport.get_extra_info("peername")
        hop.peer = str(peer[0]) if peer else None
        ssl_object = transport.get_extra_info("ssl_object")
        if ssl_object is not None:
            hop.tls = tls_facts(ssl_object, self._clock.now())
        return transport, protocol


def ssl_context(ca_file: str | None = None) -> ssl.SSLContext:
    """Verifying context; `ca_file` adds a private CA (the lab's) instead of the system's."""
    return ssl.create_default_context(cafile=ca_file)


class HttpProber:
    """Runs `HttpCheck`s over one shared session; use as an async context manager."""

    def __init__(
        self,
        dns: DnsClient,
        guard: Guard,
        *,
        ca_file: str | None = None,
        clock: Clock | None = None,
        body_limit: int = 65536,
    ) -> None:
        self.dns = dns
        self.guard = guard
        self.body_limit = body_limit
        self._clock = clock or SystemClock()
        self._ssl = ssl_context(ca_file)
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> HttpProber:
        connector = _PhaseConnector(
            self._clock,
            resolver=_CheckedResolver(),
            use_dns_cache=False,
            force_close=True,
            limit=0,
            ssl=self._ssl,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            headers={"User-Agent": USER_AGENT},
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            connector = self._session.connector
            await self._session.close()
            self._session = None
            # A TLS connection closes gracefully (close_notify, then wait for the peer);
            # when the loop is about to end (a one-shot CLI run), cut those short so no
            # socket outlives it.
            if isinstance(connector, _PhaseConnector):
                for transport in list(connector.transports):
                    if isinstance(transport, asyncio.Transport):
                        transport.abort()
                await asyncio.sleep(0)

    async def check(self, check: HttpCheck) -> Observation:
        started = time.perf_counter()
        try:
            url = URL(check.url)
        except ValueError as exc:
            return self._failed(check, Phase.TARGET, ErrorKind.TARGET_REFUSED,
                                f"invalid URL: {exc}", started, Timings())
        request = Request(url, check.method.upper(), check.headers, check.body)
        for _ in range(check.max_redirects + 1):
            result = await self._hop(check, request, started)
            if isinstance(result, Observation):
                return result
            request = result
        return self._failed(check, Phase.RESPONSE, ErrorKind.TOO_MANY_REDIRECTS,
                            f"more than {check.max_redirects} redirects", started, Timings())

    async def _hop(
        self, check: HttpCheck, request: Request, started: float
    ) -> Observation | Request:
        """One request; returns the next hop's request when following a redirect."""
        assert self._session is not None, "use HttpProber as an async context manager"
        url = request.url
        host = (url.raw_host or "").rstrip(".")
        if url.scheme not in ("http", "https") or not host:
            return self._failed(check, Phase.TARGET, ErrorKind.TARGET_REFUSED,
                                f"not an http(s) URL: {url}", started, Timings())
        remaining = check.timeout - (time.perf_counter() - started)
        dns_started = time.perf_counter()
        try:
            addresses = await self.dns.addresses(host, lifetime=max(remaining, 0.001))
            self.guard.check(host, addresses)
        except DnsFailure as exc:
            return self._failed(check, Phase.DNS, exc.kind, exc.detail, started,
                                Timings(dns_ms=_ms(dns_started)))
        except TargetRefused as exc:
            return self._failed(check, Phase.TARGET, ErrorKind.TARGET_REFUSED, str(exc),
                                started, Timings())
        dns_ms = None if is_ip_literal(host) else _ms(dns_started)
        hop = _Hop(host=host, addresses=addresses, started=time.perf_counter())
        token = _HOP.set(hop)
        remaining = check.timeout - (time.perf_counter() - started)
        try:
            async with self._session.request(
                request.method,
                url,
                headers=dict(request.headers),
                data=request.body,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=max(remaining, 0.001)),
            ) as resp:
                headers_at = time.perf_counter()
                raw = await self._read_prefix(resp)
                status = resp.status
                headers = {k.lower(): v for k, v in resp.headers.items()}
                charset = resp.charset or "utf-8"
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            # Every client failure becomes an observation (ssl errors are OSErrors).
            kind, phase = _failure_kind(exc, hop)
            return self._failed(check, phase, kind, _describe(exc), started,
                                _timings(hop, dns_ms, None, None), hop)
        finally:
            _HOP.reset(token)
        location = headers.get("location")
        if check.follow_redirects and status in _REDIRECTS and location:
            with contextlib.suppress(ValueError):  # a malformed Location is not followed
                return redirected(request, status, url.join(URL(location)))
        try:
            text = raw.decode(charset, errors="replace")
        except LookupError:  # a charset Python does not know: read it as UTF-8
            text = raw.decode("utf-8", errors="replace")
        return Observation(
            url=check.url,
            phase=Phase.DONE,
            status=status,
            headers=headers,
            body=text[: self.body_limit],
            tls=hop.tls,
            addresses=addresses,
            peer=hop.peer,
            expected_status=check.expected_status,
            failed_assertions=() if check.content.empty else check.content.failures(text),
            min_cert_days=check.min_cert_days,
            slow_ms=check.slow_ms,
            timings=_timings(hop, dns_ms, headers_at, time.perf_counter(), started),
        )

    async def _read_prefix(self, resp: aiohttp.ClientResponse) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while size < self.body_limit:
            chunk = await resp.content.read(self.body_limit - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)

    def _failed(
        self,
        check: HttpCheck,
        phase: Phase,
        kind: ErrorKind,
        detail: str,
        started: float,
        timings: Timings,
        hop: _Hop | None = None,
    ) -> Observation:
        return Observation(
            url=check.url,
            phase=phase,
            error=kind,
            error_detail=detail,
            addresses=hop.addresses if hop else (),
            peer=hop.peer if hop else None,
            timings=Timings(
                dns_ms=timings.dns_ms,
                connect_ms=timings.connect_ms,
                tls_ms=timings.tls_ms,
                total_ms=_ms(started),
            ),
        )


def _ms(since: float, until: float | None = None) -> float:
    return round(((until if until is not None else time.perf_counter()) - since) * 1000, 3)


def _timings(
    hop: _Hop,
    dns_ms: float | None,
    headers_at: float | None,
    done_at: float | None,
    started: float | None = None,
) -> Timings:
    connect_ms = _ms(hop.started, hop.tcp_done) if hop.tcp_done is not None else None
    tls_ms = None
    if hop.tls is not None and hop.tcp_done is not None and hop.conn_done is not None:
        tls_ms = _ms(hop.tcp_done, hop.conn_done)
    ttfb_ms = None
    if headers_at is not None and hop.conn_done is not None:
        ttfb_ms = _ms(hop.conn_done, headers_at)
    total_ms = _ms(started, done_at) if started is not None and done_at is not None else None
    return Timings(dns_ms, connect_ms, tls_ms, ttfb_ms, total_ms)


def _failure_kind(exc: BaseException, hop: _Hop) -> tuple[ErrorKind, Phase]:
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return cert_error_kind(exc.certificate_error), Phase.TLS
    if isinstance(exc, aiohttp.ClientConnectorSSLError | ssl.SSLError):
        return ErrorKind.TLS_HANDSHAKE, Phase.TLS
    if isinstance(exc, TimeoutError):
        if hop.tcp_done is None:
            return ErrorKind.CONNECT_TIMEOUT, Phase.CONNECT
        if hop.conn_done is None:
            return ErrorKind.TLS_HANDSHAKE, Phase.TLS
        return ErrorKind.RESPONSE_TIMEOUT, Phase.RESPONSE
    if isinstance(exc, aiohttp.ClientConnectorError) and hop.tcp_done is None:
        os_error = exc.os_error
        if isinstance(os_error, ConnectionRefusedError):
            return ErrorKind.CONNECT_REFUSED, Phase.CONNECT
        return ErrorKind.UNREACHABLE, Phase.CONNECT
    if hop.conn_done is None and hop.tcp_done is not None:
        return ErrorKind.TLS_HANDSHAKE, Phase.TLS
    return ErrorKind.DISCONNECTED, Phase.RESPONSE


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text[:300]
