"""Tiny real servers on loopback for probe tests: HTTP(S) via aiohttp, DNS via dnslib."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from aiohttp import web
from dnslib import QTYPE, RCODE, RR, A, DNSRecord
from dnslib.server import BaseResolver, DNSLogger, DNSServer


@asynccontextmanager
async def serve(app: web.Application, ssl_context: Any = None) -> AsyncIterator[int]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context)
    await site.start()
    port = int(runner.addresses[0][1])
    try:
        yield port
    finally:
        await runner.cleanup()


def free_port() -> int:
    """A port nothing listens on (bound then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Zone(BaseResolver):  # type: ignore[misc]
    def __init__(self, records: dict[str, str], servfail: set[str]) -> None:
        self.records = records
        self.servfail = servfail
        self.queries: list[str] = []
        self.port = 0

    def resolve(self, request: DNSRecord, handler: object) -> DNSRecord:
        reply = request.reply()
        name = str(request.q.qname).rstrip(".").lower()
        self.queries.append(name)
        if name in self.servfail:
            reply.header.rcode = RCODE.SERVFAIL
        elif name in self.records:
            if request.q.qtype == QTYPE.A:
                reply.add_answer(RR(request.q.qname, QTYPE.A, rdata=A(self.records[name]), ttl=60))
        else:
            reply.header.rcode = RCODE.NXDOMAIN
        return reply


@contextmanager
def dns_zone(records: dict[str, str], servfail: frozenset[str] = frozenset()) -> Iterator[_Zone]:
    """A DNS server on 127.0.0.1; the zone's `port` says where, `records` may be changed."""
    zone = _Zone(records, set(servfail))
    quiet = DNSLogger(logf=lambda _msg: None)
    server = DNSServer(zone, address="127.0.0.1", port=0, logger=quiet)
    server.start_thread()
    zone.port = int(server.server.server_address[1])
    try:
        yield zone
    finally:
        server.stop()
        server.server.server_close()


@contextmanager
def dns_server(records: dict[str, str], servfail: frozenset[str] = frozenset()) -> Iterator[int]:
    with dns_zone(records, servfail) as zone:
        yield zone.port
