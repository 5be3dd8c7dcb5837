from __future__ import annotations

import asyncio
import contextlib
import gc
import socket
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import trustme
from aiohttp import web
from probe_servers import dns_server, free_port, serve

from pantau.probes.classify import classify
from pantau.probes.netchecks import DnsCheck, SocketProber, TcpCheck, TlsCheck, dns_check
from pantau.probes.observation import ErrorKind
from pantau.probes.resolve import DnsClient, Nameserver
from pantau.probes.ssrf import Guard
from pantau.signals import Layer

OPEN = Guard(allow_private=True)


async def test_dns_check_answers_and_failures() -> None:
    with dns_server({"a.pantau.test": "127.0.0.9"}, frozenset({"bad.pantau.test"})) as port:
        dns = DnsClient([Nameserver.parse(f"127.0.0.1:{port}")])
        ok = await dns_check(dns, DnsCheck("a.pantau.test", expect=("127.0.0.9",)))
        moved = await dns_check(dns, DnsCheck("a.pantau.test", expect=("127.0.0.1",)))
        gone = await dns_check(dns, DnsCheck("gone.pantau.test"))
        bad = await dns_check(dns, DnsCheck("bad.pantau.test"))
    assert ok.addresses == ("127.0.0.9",) and classify(ok).layer is Layer.NONE
    assert ok.timings.dns_ms is not None
    assert classify(moved).cause == "content_mismatch"
    assert (gone.error, classify(gone).layer) == (ErrorKind.NXDOMAIN, Layer.DNS)
    assert (bad.error, classify(bad).layer) == (ErrorKind.SERVFAIL, Layer.DNS)


async def test_dns_timeout_when_the_resolver_is_silent() -> None:
    dns = DnsClient([Nameserver("127.0.0.1", free_port())])
    obs = await dns_check(dns, DnsCheck("a.pantau.test", timeout=0.3))
    # Nothing listens: depending on ICMP the resolver sees a timeout or a refusal.
    assert obs.error in (ErrorKind.DNS_TIMEOUT, ErrorKind.SERVFAIL)
    assert classify(obs).layer is Layer.DNS


def test_nameserver_parsing() -> None:
    assert Nameserver.parse("127.0.0.1:5353") == Nameserver("127.0.0.1", 5353)
    assert Nameserver.parse("[::1]:53") == Nameserver("::1", 53)
    assert Nameserver.parse("1.1.1.1") == Nameserver("1.1.1.1", 53)
    for bad in ("dns.google:53", "127.0.0.1:0", "127.0.0.1:x"):
        try:
            Nameserver.parse(bad)
        except ValueError:
            continue
        raise AssertionError(f"accepted {bad}")


async def test_tcp_connect_and_refusal() -> None:
    app = web.Application()
    async with serve(app) as port:
        prober = SocketProber(DnsClient(), OPEN)
        up = await prober.tcp(TcpCheck("127.0.0.1", port))
        down = await prober.tcp(TcpCheck("127.0.0.1", free_port()))
    assert classify(up).layer is Layer.NONE and up.timings.connect_ms is not None
    assert (down.error, classify(down).layer) == (ErrorKind.CONNECT_REFUSED, Layer.NETWORK)


async def test_tls_handshake_expiry_and_name(tmp_path: Path) -> None:
    import ssl

    ca = trustme.CA()
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    now = datetime.now(UTC)

    def ctx(not_before: datetime | None = None, not_after: datetime | None = None
            ) -> ssl.SSLContext:
        c = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("t.pantau.test", not_before=not_before, not_after=not_after
                      ).configure_cert(c)
        return c

    with dns_server({"t.pantau.test": "127.0.0.1", "u.pantau.test": "127.0.0.1"}) as dp:
        prober = SocketProber(DnsClient([Nameserver("127.0.0.1", dp)]), OPEN, ca_file=str(ca_file))
        async with serve(web.Application(), ctx()) as port:
            good = await prober.tls(TlsCheck("t.pantau.test", port))
            other = await prober.tls(TlsCheck("u.pantau.test", port))
        async with serve(web.Application(), ctx(not_after=now + timedelta(days=2))) as port:
            soon = await prober.tls(TlsCheck("t.pantau.test", port, min_cert_days=7))
        async with serve(web.Application(), ctx(not_before=now - timedelta(days=9),
                                                not_after=now - timedelta(days=1))) as port:
            expired = await prober.tls(TlsCheck("t.pantau.test", port))
    assert classify(good).layer is Layer.NONE
    assert good.timings.tls_ms is not None and good.tls is not None
    assert (other.error, classify(other).layer) == (ErrorKind.CERT_HOSTNAME, Layer.TLS)
    assert classify(soon).cause == "certificate_expiring"
    assert (expired.error, classify(expired).layer) == (ErrorKind.CERT_EXPIRED, Layer.TLS)


async def test_a_cancelled_connect_leaves_no_socket_open() -> None:
    # A listener whose accept queue is full (never accepting, its one place taken):
    # Linux drops further SYNs, so the check waits in connect.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        filler = socket.create_connection(("127.0.0.1", port), timeout=1)
        prober = SocketProber(DnsClient(), OPEN)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            task = asyncio.create_task(prober.tcp(TcpCheck("127.0.0.1", port, timeout=30)))
            await asyncio.sleep(0.2)
            assert not task.done()
            task.cancel()  # the scheduler shutting down mid-check
            with contextlib.suppress(asyncio.CancelledError):
                await task
            del task
            gc.collect()
        filler.close()
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]
