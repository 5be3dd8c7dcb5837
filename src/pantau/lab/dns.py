"""The lab's DNS: an authoritative server for `*.pantau.test` on a UDP loopback port.

All lab names resolve to 127.0.0.1 (the port is in the URL). Each service's names
(`<slug>.pantau.test` and every name under it) follow that service's `DnsMode`.
Several servers can share one `DnsZone`: the lab gives each vantage point its own
resolver address, so cutting a vantage off makes only its resolver go silent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from dnslib import QTYPE, RCODE, RR, A, DNSRecord

from pantau.lab.certs import LAB_DOMAIN
from pantau.lab.modes import DnsMode

_SUFFIX = "." + LAB_DOMAIN
_TTL = 30


class DnsZone:
    """Which lab names exist and how each service's names answer right now."""

    def __init__(self) -> None:
        self.names: set[str] = set()
        self.modes: dict[str, DnsMode] = {}

    def add(self, name: str) -> None:
        self.names.add(name.lower().rstrip("."))

    def mode_for(self, name: str) -> DnsMode:
        labels = name.split(".")
        # `<slug>.pantau.test` and `<anything>.<slug>.pantau.test` belong to <slug>.
        slug = labels[-3] if len(labels) >= 3 else ""
        return self.modes.get(slug, DnsMode.OK)

    def answer(self, query: DNSRecord) -> DNSRecord | None:
        """The reply to `query`, or None when the reply must never come (timeout)."""
        name = str(query.q.qname).lower().rstrip(".")
        reply = query.reply()
        if not (name == LAB_DOMAIN or name.endswith(_SUFFIX)):
            reply.header.rcode = RCODE.REFUSED
            return reply
        mode = self.mode_for(name)
        if mode is DnsMode.TIMEOUT:
            return None
        if mode is DnsMode.SERVFAIL:
            reply.header.rcode = RCODE.SERVFAIL
        elif mode is DnsMode.NXDOMAIN or name not in self.names:
            reply.header.rcode = RCODE.NXDOMAIN
        elif query.q.qtype in (QTYPE.A, QTYPE.ANY):
            reply.add_answer(RR(name, QTYPE.A, rdata=A("127.0.0.1"), ttl=_TTL))
        # Other types for an existing name: NOERROR with no answer (NODATA).
        return reply


class DnsServer(asyncio.DatagramProtocol):
    """Answers UDP queries from `zone` on 127.0.0.1; `silenced()` true drops everything."""

    def __init__(self, zone: DnsZone, silenced: Callable[[], bool] = lambda: False) -> None:
        self.zone = zone
        self._silenced = silenced
        self._transport: asyncio.DatagramTransport | None = None
        self.address: tuple[str, int] = ("127.0.0.1", 0)
        self._closed = asyncio.Event()

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: self, local_addr=("127.0.0.1", 0)
        )
        self._transport = transport
        host, port = transport.get_extra_info("sockname")[:2]
        self.address = (host, port)

    async def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None
            # The socket is released in connection_lost, on a later loop iteration.
            await self._closed.wait()

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed.set()

    def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
        if self._silenced() or self._transport is None:
            return
        try:
            query = DNSRecord.parse(data)
        except Exception:
            # dnslib raises assorted errors on garbage; a real server ignores garbage too.
            return
        reply = self.zone.answer(query)
        if reply is not None:
            self._transport.sendto(reply.pack(), addr)
