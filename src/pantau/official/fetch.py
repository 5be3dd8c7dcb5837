"""HTTP for status pages: conditional GETs with bounded size and clear failures."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass

import httpcore
import httpx
from httpcore import SOCKET_OPTION

from pantau.official import errors
from pantau.probes.resolve import DnsClient, DnsFailure
from pantau.probes.ssrf import Guard, TargetRefused

MAX_BYTES = 5 * 1024 * 1024
"""Real summaries are tens of kilobytes; a page larger than this is not a status page."""

USER_AGENT = "pantau-official/0.1 (+https://github.com/pantau)"
CONNECT_SECONDS = 10.0
"""How long a name may take to resolve when the request sets no connect timeout."""


@dataclass(frozen=True, slots=True)
class Validators:
    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True, slots=True)
class Fetched:
    """A 200 answer, or `body is None` for 304 Not Modified."""

    body: bytes | None
    validators: Validators
    content_type: str = ""


async def fetch(
    client: httpx.AsyncClient,
    url: str,
    validators: Validators | None = None,
    *,
    seconds: float = 10.0,
) -> Fetched:
    headers = {"Accept": "application/json, application/rss+xml, application/atom+xml, */*"}
    if validators and validators.etag:
        headers["If-None-Match"] = validators.etag
    if validators and validators.last_modified:
        headers["If-Modified-Since"] = validators.last_modified
    try:
        # httpx's timeout bounds each network operation; a page that drips its answer
        # byte by byte needs a deadline for the whole request as well.
        async with (
            asyncio.timeout(seconds),
            client.stream("GET", url, headers=headers, timeout=seconds) as resp,
        ):
            if resp.status_code == 304:
                return Fetched(None, validators or Validators())
            if resp.status_code != 200:
                raise errors.http_status(url, resp.status_code)
            chunks: list[bytes] = []
            size = 0
            async for chunk in resp.aiter_bytes():
                size += len(chunk)
                if size > MAX_BYTES:
                    raise errors.malformed(url, f"larger than {MAX_BYTES // 1024} KiB")
                chunks.append(chunk)
            return Fetched(
                b"".join(chunks),
                Validators(resp.headers.get("etag"), resp.headers.get("last-modified")),
                resp.headers.get("content-type", ""),
            )
    except TargetRefused as exc:
        raise errors.refused(url, f"{exc.host} is {exc.address}, {exc.reason}") from None
    except DnsFailure as exc:
        raise errors.unreachable(url, exc.detail) from None
    except (httpx.TimeoutException, TimeoutError):
        raise errors.timeout(url, seconds) from None
    except httpx.RemoteProtocolError as exc:
        raise errors.truncated(url, str(exc) or type(exc).__name__) from None
    except httpx.HTTPError as exc:
        raise errors.unreachable(url, str(exc) or type(exc).__name__) from None


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """Opens a connection only to an address it resolved itself and the guard passed.

    Checking the name in a request hook and letting httpx resolve it again to connect
    let a name change its answer in between (DNS rebinding) and reach the inside; here
    the one answer that is checked is the one connected to, as in the probe engine.
    """

    def __init__(self, dns: DnsClient, guard: Guard) -> None:
        self._dns = dns
        self._guard = guard
        self._backend = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = self._guard.check(
            host, await self._dns.addresses(host, lifetime=timeout or CONNECT_SECONDS)
        )
        failure = httpcore.ConnectError(f"{host} has no address")
        for address in addresses:
            try:
                return await self._backend.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except httpcore.ConnectError as exc:
                failure = exc
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: Iterable[SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("status pages are fetched over TCP only")

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


class _GuardedTransport(httpx.AsyncHTTPTransport):
    def __init__(self, dns: DnsClient, guard: Guard) -> None:
        super().__init__()
        # httpx takes no network backend; its pool is rebuilt as httpx builds it (verified
        # TLS, default limits) around ours. httpx is pinned, so the attribute holds.
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=20)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_GuardedBackend(dns, guard),
        )


def new_client(guard: Guard | None = None, dns: DnsClient | None = None) -> httpx.AsyncClient:
    """A client for status pages. With a `guard`, every connection (each redirect's too)
    goes only to an address that `dns` (the system's resolver by default) gave for the
    host and the guard passed: the catalog names the pages, but the vendor's page
    decides where its redirects and feed links go."""
    transport = None if guard is None else _GuardedTransport(dns or DnsClient(), guard)
    return httpx.AsyncClient(
        headers={"User-Agent": USER_AGENT}, follow_redirects=True, max_redirects=5,
        transport=transport,
    )
