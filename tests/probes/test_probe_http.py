from __future__ import annotations

import asyncio
import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import trustme
from aiohttp import web
from probe_servers import dns_server, free_port, serve

from pantau.probes.assertions import ContentRules
from pantau.probes.classify import classify
from pantau.probes.http import HttpCheck, HttpProber
from pantau.probes.observation import ErrorKind, Phase
from pantau.probes.resolve import DnsClient, Nameserver
from pantau.probes.ssrf import Guard
from pantau.signals import Layer


def app() -> web.Application:
    async def ok(_: web.Request) -> web.Response:
        return web.Response(text='{"status": {"ok": true}, "items": [1, 2]}',
                            content_type="application/json")

    async def slow(_: web.Request) -> web.Response:
        await asyncio.sleep(1)
        return web.Response(text="late")

    async def hop(_: web.Request) -> web.Response:
        raise web.HTTPFound("/ok")

    async def loop(_: web.Request) -> web.Response:
        raise web.HTTPFound("/loop")

    async def maint(_: web.Request) -> web.Response:
        return web.Response(status=503, text="Down for maintenance", headers={"Retry-After": "60"})

    async def odd(_: web.Request) -> web.Response:
        return web.Response(body="caf\u00e9".encode(), headers={
            "Content-Type": "text/plain; charset=x-no-such-charset"})

    async def bad_location(_: web.Request) -> web.Response:
        return web.Response(status=302, headers={"Location": "http://[::1/"})

    a = web.Application()
    a.router.add_get("/odd", odd)
    a.router.add_get("/bad-location", bad_location)
    a.router.add_get("/ok", ok)
    a.router.add_get("/slow", slow)
    a.router.add_get("/hop", hop)
    a.router.add_get("/loop", loop)
    a.router.add_get("/maint", maint)
    return a


OPEN = Guard(allow_private=True)


async def test_healthy_check_times_every_phase() -> None:
    async with serve(app()) as port, HttpProber(DnsClient(), OPEN) as prober:
        obs = await prober.check(HttpCheck(f"http://127.0.0.1:{port}/ok"))
    assert obs.phase is Phase.DONE and obs.status == 200
    t = obs.timings
    assert t.dns_ms is None  # an address literal needs no lookup
    assert t.connect_ms is not None and t.ttfb_ms is not None and t.total_ms is not None
    assert t.tls_ms is None
    assert 0 <= t.connect_ms <= t.total_ms and t.ttfb_ms <= t.total_ms
    assert obs.peer == "127.0.0.1"
    assert classify(obs).layer is Layer.NONE


async def test_content_rules_and_expected_status() -> None:
    async with serve(app()) as port, HttpProber(DnsClient(), OPEN) as prober:
        url = f"http://127.0.0.1:{port}/ok"
        good = await prober.check(HttpCheck(url, content=ContentRules(
            keyword="status", regex=r"items", json_path="status.ok", json_equals="true")))
        bad = await prober.check(HttpCheck(url, content=ContentRules(json_path="items.5")))
        wrong = await prober.check(HttpCheck(url, expected_status=(204,)))
    assert classify(good).layer is Layer.NONE
    assert bad.failed_assertions == ("JSON path 'items.5' missing",)
    assert classify(bad).cause == "content_mismatch"
    assert classify(wrong).cause == "unexpected_status"


async def test_redirect_policy() -> None:
    async with serve(app()) as port, HttpProber(DnsClient(), OPEN) as prober:
        base = f"http://127.0.0.1:{port}"
        followed = await prober.check(HttpCheck(f"{base}/hop"))
        kept = await prober.check(HttpCheck(f"{base}/hop", follow_redirects=False))
        looping = await prober.check(HttpCheck(f"{base}/loop", max_redirects=3))
    assert followed.status == 200
    assert kept.status == 302
    assert looping.error is ErrorKind.TOO_MANY_REDIRECTS


async def test_refused_and_timed_out_and_maintenance() -> None:
    async with serve(app()) as port, HttpProber(DnsClient(), OPEN) as prober:
        refused = await prober.check(HttpCheck(f"http://127.0.0.1:{free_port()}/"))
        slow = await prober.check(HttpCheck(f"http://127.0.0.1:{port}/slow", timeout=0.3))
        maint = await prober.check(HttpCheck(f"http://127.0.0.1:{port}/maint"))
    assert (refused.error, classify(refused).layer) == (ErrorKind.CONNECT_REFUSED, Layer.NETWORK)
    assert (slow.error, classify(slow).layer) == (ErrorKind.RESPONSE_TIMEOUT, Layer.ORIGIN)
    assert slow.timings.total_ms is not None and slow.timings.total_ms < 1500
    assert classify(maint).layer is Layer.MAINTENANCE


async def test_names_resolve_through_the_configured_resolver() -> None:
    async with serve(app()) as port:
        with dns_server({"site.pantau.test": "127.0.0.1"}, frozenset({"broken.pantau.test"})) as dp:
            dns = DnsClient([Nameserver("127.0.0.1", dp)])
            async with HttpProber(dns, OPEN) as prober:
                ok = await prober.check(HttpCheck(f"http://site.pantau.test:{port}/ok"))
                missing = await prober.check(HttpCheck(f"http://nope.pantau.test:{port}/ok"))
                broken = await prober.check(HttpCheck(f"http://broken.pantau.test:{port}/ok"))
    assert ok.status == 200 and ok.addresses == ("127.0.0.1",)
    assert ok.timings.dns_ms is not None and ok.timings.dns_ms > 0
    assert (missing.error, classify(missing).layer) == (ErrorKind.NXDOMAIN, Layer.DNS)
    assert (broken.error, classify(broken).layer) == (ErrorKind.SERVFAIL, Layer.DNS)


@pytest.mark.parametrize("dns", [DnsClient(), DnsClient([Nameserver("127.0.0.1", 9)])],
                         ids=["system", "configured"])
async def test_a_name_dns_cannot_carry_is_observed_not_raised(dns: DnsClient) -> None:
    # Both resolvers refuse a label over 63 octets before asking anyone.
    async with HttpProber(dns, OPEN) as prober:
        obs = await prober.check(HttpCheck(f"http://{'x' * 64}.pantau.test/"))
    assert (obs.phase, obs.error) == (Phase.DNS, ErrorKind.NXDOMAIN)
    assert "not a valid DNS name" in (obs.error_detail or "")


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def _tls(ca: trustme.CA, name: str, *, expired: bool = False) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    now = datetime.now(UTC)
    if expired:
        cert = ca.issue_cert(name, not_before=now - timedelta(days=30),
                             not_after=now - timedelta(days=1))
    else:
        cert = ca.issue_cert(name)
    cert.configure_cert(ctx)
    return ctx


async def test_tls_phases_and_certificate_faults(ca: trustme.CA, tmp_path: Path) -> None:
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    with dns_server({"tls.pantau.test": "127.0.0.1", "other.pantau.test": "127.0.0.1"}) as dp:
        dns = DnsClient([Nameserver("127.0.0.1", dp)])
        async with HttpProber(dns, OPEN, ca_file=str(ca_file)) as prober:
            async with serve(app(), _tls(ca, "tls.pantau.test")) as port:
                good = await prober.check(HttpCheck(f"https://tls.pantau.test:{port}/ok",
                                                    min_cert_days=7))
                wrong_name = await prober.check(HttpCheck(f"https://other.pantau.test:{port}/ok"))
            async with serve(app(), _tls(ca, "tls.pantau.test", expired=True)) as port:
                expired = await prober.check(HttpCheck(f"https://tls.pantau.test:{port}/ok"))
        async with HttpProber(dns, OPEN) as system_trust, serve(
            app(), _tls(ca, "tls.pantau.test")
        ) as port:
            untrusted = await system_trust.check(HttpCheck(f"https://tls.pantau.test:{port}/ok"))
    assert good.status == 200 and good.tls is not None
    assert good.tls.days_to_expiry is not None and good.tls.days_to_expiry > 300
    assert good.timings.tls_ms is not None and good.timings.tls_ms > 0
    assert classify(good).layer is Layer.NONE
    assert (classify(wrong_name).layer, wrong_name.error) == (Layer.TLS, ErrorKind.CERT_HOSTNAME)
    assert (classify(expired).layer, expired.error) == (Layer.TLS, ErrorKind.CERT_EXPIRED)
    assert (classify(untrusted).layer, untrusted.error) == (Layer.TLS, ErrorKind.CERT_UNTRUSTED)


async def test_odd_answers_are_observed_not_raised() -> None:
    async with serve(app()) as port, HttpProber(DnsClient(), OPEN) as prober:
        odd = await prober.check(HttpCheck(f"http://127.0.0.1:{port}/odd"))
        moved = await prober.check(HttpCheck(f"http://127.0.0.1:{port}/bad-location"))
        invalid = await prober.check(HttpCheck("http://[::1/"))
    assert (odd.status, odd.body) == (200, "caf\u00e9")
    assert moved.status == 302  # a malformed Location is reported, not followed
    assert invalid.error is ErrorKind.TARGET_REFUSED


def recorder(seen: list[tuple[str, dict[str, str], bytes]]) -> web.Application:
    async def record(request: web.Request) -> web.Response:
        seen.append((request.method, dict(request.headers), await request.read()))
        return web.Response(text="landed")

    a = web.Application()
    a.router.add_route("*", "/landing", record)
    return a


def redirector(target: str) -> web.Application:
    async def bounce(request: web.Request) -> web.Response:
        status = int(request.match_info["status"])
        return web.Response(status=status, headers={"Location": target})

    a = web.Application()
    a.router.add_route("*", "/bounce/{status}", bounce)
    return a


SECRETS = {"Authorization": "Bearer s3cret", "Cookie": "session=abc",
           "Content-Type": "application/json", "X-Probe": "kept"}


@pytest.mark.parametrize(("status", "method", "body"), [
    (301, "GET", b""), (302, "GET", b""), (303, "GET", b""),
    (307, "POST", b'{"q": 1}'), (308, "POST", b'{"q": 1}'),
])
async def test_a_redirect_to_another_origin_carries_no_credentials(
    status: int, method: str, body: bytes
) -> None:
    seen: list[tuple[str, dict[str, str], bytes]] = []
    async with (serve(recorder(seen)) as other,
                serve(redirector(f"http://127.0.0.1:{other}/landing")) as port,
                HttpProber(DnsClient(), OPEN) as prober):
        obs = await prober.check(HttpCheck(f"http://127.0.0.1:{port}/bounce/{status}",
                                           method="POST", headers=SECRETS, body=b'{"q": 1}'))
    assert obs.status == 200 and len(seen) == 1
    got_method, headers, got_body = seen[0]
    assert (got_method, got_body) == (method, body)
    assert "Authorization" not in headers and "Cookie" not in headers
    assert headers["X-Probe"] == "kept"
    assert ("Content-Type" in headers) == (method == "POST")


async def test_a_redirect_within_the_origin_keeps_the_credentials() -> None:
    seen: list[tuple[str, dict[str, str], bytes]] = []
    app = recorder(seen)

    async def bounce(_: web.Request) -> web.Response:
        raise web.HTTPTemporaryRedirect("/landing")

    app.router.add_post("/bounce", bounce)
    async with serve(app) as port, HttpProber(DnsClient(), OPEN) as prober:
        await prober.check(HttpCheck(f"http://127.0.0.1:{port}/bounce", method="POST",
                                     headers=SECRETS, body=b"x"))
    assert [(m, h["Authorization"], h["Cookie"], b) for m, h, b in seen] == [
        ("POST", "Bearer s3cret", "session=abc", b"x")]
