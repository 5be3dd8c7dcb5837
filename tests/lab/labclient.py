"""Helpers shared by the lab tests: a client that trusts the lab CA."""

from __future__ import annotations

import ssl
from dataclasses import dataclass

import aiohttp

from pantau.lab import Lab


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: str


async def fetch(lab: Lab, slug: str, path: str = "/") -> Answer:
    """GET a lab service's public URL over real TLS, verifying against the lab CA."""
    service = lab.services[slug]
    ctx = ssl.create_default_context(cafile=str(lab.ca_file))
    connector = aiohttp.TCPConnector(ssl=ctx, force_close=True)
    async with (
        aiohttp.ClientSession(connector=connector) as session,
        session.get(
            f"https://127.0.0.1:{service.port}{path}",
            server_hostname=service.host,
            headers={"Host": service.host},
            timeout=aiohttp.ClientTimeout(total=3.0),
        ) as response,
    ):
        body = await response.text()
        headers = {k.lower(): v for k, v in response.headers.items()}
        return Answer(response.status, headers, body)
