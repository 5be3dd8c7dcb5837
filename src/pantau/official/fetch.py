"""HTTP for status pages: conditional GETs with bounded size and clear failures."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import httpx

from pantau.official import errors
from pantau.probes.resolve import DnsClient, DnsFailure
from pantau.probes.ssrf import Guard, TargetRefused

MAX_BYTES = 5 * 1024 * 1024
"""Real summaries are tens of kilobytes; a page larger than this is not a status page."""

USER_AGENT = "pantau-official/0.1 (+https://github.com/pantau)"


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


def new_client(guard: Guard | None = None) -> httpx.AsyncClient:
    """A client for status pages. With a `guard` that forbids private addresses, every
    request (each redirect too) is refused when its host resolves into a private or
    internal network: the catalog names the pages, but the vendor's page decides where
    its redirects and feed links go.

    The name is checked, then httpx resolves it again to connect, so a name that
    changes its answer in between (DNS rebinding) is not caught here; the probe engine,
    which connects to the very address it checked, is the strict one."""
    hooks: dict[str, list[Any]] = {}
    if guard is not None and not guard.allow_private:
        dns = DnsClient()

        async def check_target(request: httpx.Request) -> None:
            host = request.url.host
            guard.check(host, await dns.addresses(host, lifetime=5.0))

        hooks["request"] = [check_target]
    return httpx.AsyncClient(
        headers={"User-Agent": USER_AGENT}, follow_redirects=True, max_redirects=5,
        event_hooks=hooks,
    )
