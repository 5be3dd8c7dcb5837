from __future__ import annotations

import pytest
from aiohttp import web
from probe_servers import dns_zone, serve

from pantau.probes.classify import classify
from pantau.probes.http import HttpCheck, HttpProber
from pantau.probes.netchecks import SocketProber, TcpCheck
from pantau.probes.observation import ErrorKind, Phase
from pantau.probes.resolve import DnsClient, Nameserver
from pantau.probes.ssrf import Guard, TargetRefused, why_forbidden
from pantau.signals import Layer

FORBIDDEN = ["127.0.0.1", "10.0.0.1", "10.255.1.2", "169.254.169.254", "::1", "fd00:ec2::254",
             "192.168.1.1", "172.16.0.1", "fe80::1", "224.0.0.1", "0.0.0.0", "::ffff:127.0.0.1",
             "100.64.0.1"]


@pytest.mark.parametrize("address", FORBIDDEN)
def test_guard_refuses_internal_addresses(address: str) -> None:
    assert why_forbidden(address) is not None
    with pytest.raises(TargetRefused):
        Guard().check("x", (address,))
    assert Guard(allow_private=True).check("x", (address,)) == (address,)


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:4700::6810:84e5", "1.1.1.1"])
def test_guard_allows_public_addresses(address: str) -> None:
    assert why_forbidden(address) is None


def test_one_bad_address_refuses_the_name() -> None:
    with pytest.raises(TargetRefused) as info:
        Guard().check("mixed.example", ("1.1.1.1", "10.0.0.1"))
    assert info.value.address == "10.0.0.1"


def hello() -> web.Application:
    async def ok(_: web.Request) -> web.Response:
        return web.Response(text="inside")

    a = web.Application()
    a.router.add_get("/", ok)
    return a


NAMES = {"loop.evil.test": "127.0.0.1", "ten.evil.test": "10.0.0.1",
         "meta.evil.test": "169.254.169.254"}


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "10.0.0.1", "169.254.169.254", "[::1]", *NAMES]
)
async def test_probe_refuses_literal_and_named_internal_targets(host: str) -> None:
    async with serve(hello()) as port:
        with dns_zone(dict(NAMES)) as zone:
            dns = DnsClient([Nameserver("127.0.0.1", zone.port)])
            async with HttpProber(dns, Guard()) as prober:
                obs = await prober.check(HttpCheck(f"http://{host}:{port}/", timeout=2))
            tcp = await SocketProber(dns, Guard()).tcp(TcpCheck(host.strip("[]"), port))
    for seen in (obs, tcp):
        assert seen.phase is Phase.TARGET and seen.error is ErrorKind.TARGET_REFUSED
        assert seen.status is None and seen.peer is None
        assert classify(seen).layer is Layer.CLIENT


async def test_allowed_when_the_operator_says_so() -> None:
    async with serve(hello()) as port:
        with dns_zone(dict(NAMES)) as zone:
            dns = DnsClient([Nameserver("127.0.0.1", zone.port)])
            async with HttpProber(dns, Guard(allow_private=True)) as prober:
                obs = await prober.check(HttpCheck(f"http://loop.evil.test:{port}/"))
    assert obs.status == 200 and obs.body == "inside"


async def test_connects_to_the_address_it_checked_not_a_second_lookup() -> None:
    """DNS rebinding: the answer changes between lookups; only one lookup may count."""
    async with serve(hello()) as port:
        with dns_zone({"rebind.evil.test": "127.0.0.1"}) as zone:
            dns = DnsClient([Nameserver("127.0.0.1", zone.port)])
            async with HttpProber(dns, Guard(allow_private=True)) as prober:
                first = await prober.check(HttpCheck(f"http://rebind.evil.test:{port}/"))
                zone.records["rebind.evil.test"] = "127.0.0.2"
                second = await prober.check(HttpCheck(f"http://rebind.evil.test:{port}/"))
    assert zone.queries == ["rebind.evil.test", "rebind.evil.test"]
    assert (first.peer, first.addresses) == ("127.0.0.1", ("127.0.0.1",))
    assert second.addresses == ("127.0.0.2",)
    # 127.0.0.2 has no listener on that port: the probe went where the check said.
    assert second.error is ErrorKind.CONNECT_REFUSED or second.peer == "127.0.0.2"
