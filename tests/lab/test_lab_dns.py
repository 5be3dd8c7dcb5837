"""The lab DNS server answers, fails and goes silent as told (dnspython client)."""

from __future__ import annotations

import aiohttp
import dns.asyncquery
import dns.exception
import dns.message
import dns.rcode
import pytest

from pantau.lab import DnsMode, Lab, ServiceSpec
from pantau.lab.scenario import Vantage


async def ask(address: tuple[str, int], name: str, rdtype: str = "A") -> dns.message.Message:
    query = dns.message.make_query(name, rdtype)
    return await dns.asyncquery.udp(query, address[0], port=address[1], timeout=0.3)


SERVICES = [ServiceSpec(slug="chatgpt", name="ChatGPT", cdn="cloudflare"),
            ServiceSpec(slug="whatsapp", name="WhatsApp")]


async def test_modes() -> None:
    async with Lab.start(SERVICES) as lab:
        answer = await ask(lab.dns_address, "chatgpt.pantau.test")
        assert answer.rcode() == dns.rcode.NOERROR
        assert [r.address for r in answer.answer[0]] == ["127.0.0.1"]
        for name in ("www.chatgpt.pantau.test", "api.chatgpt.pantau.test",
                     "origin.chatgpt.pantau.test"):
            assert (await ask(lab.dns_address, name)).answer
        nodata = await ask(lab.dns_address, "chatgpt.pantau.test", "AAAA")
        assert nodata.rcode() == dns.rcode.NOERROR and not nodata.answer
        unknown = await ask(lab.dns_address, "nothing.pantau.test")
        assert unknown.rcode() == dns.rcode.NXDOMAIN
        outside = await ask(lab.dns_address, "example.com")
        assert outside.rcode() == dns.rcode.REFUSED

        lab.set_dns("chatgpt", DnsMode.NXDOMAIN)
        assert (await ask(lab.dns_address, "chatgpt.pantau.test")).rcode() == dns.rcode.NXDOMAIN
        lab.set_dns("chatgpt", DnsMode.SERVFAIL)
        assert (await ask(lab.dns_address, "chatgpt.pantau.test")).rcode() == dns.rcode.SERVFAIL
        assert (await ask(lab.dns_address, "www.chatgpt.pantau.test")).rcode() == dns.rcode.SERVFAIL
        # Other services are untouched by chatgpt's fault.
        assert (await ask(lab.dns_address, "whatsapp.pantau.test")).answer
        lab.set_dns("chatgpt", DnsMode.TIMEOUT)
        with pytest.raises(dns.exception.Timeout):
            await ask(lab.dns_address, "chatgpt.pantau.test")
        lab.set_dns("chatgpt", DnsMode.OK)
        assert (await ask(lab.dns_address, "chatgpt.pantau.test")).answer


async def test_cut_vantage_goes_silent_alone() -> None:
    vantages = [Vantage(name="jakarta", region="ID-JK"), Vantage(name="surabaya", region="ID-JI")]
    async with Lab.start(SERVICES, vantages=vantages) as lab:
        jakarta, surabaya = lab.vantages["jakarta"], lab.vantages["surabaya"]
        assert (await ask(surabaya.dns_address, "whatsapp.pantau.test")).answer
        async with aiohttp.ClientSession() as http:
            async with http.get(surabaya.canary_url) as canary:
                assert canary.status == 204
            lab.cut_vantage("surabaya")
            with pytest.raises(aiohttp.ClientOSError):
                await http.get(surabaya.canary_url)
            async with http.get(jakarta.canary_url) as canary:
                assert canary.status == 204
        with pytest.raises(dns.exception.Timeout):
            await ask(surabaya.dns_address, "whatsapp.pantau.test")
        assert (await ask(jakarta.dns_address, "whatsapp.pantau.test")).answer
        assert (await ask(lab.dns_address, "whatsapp.pantau.test")).answer
        lab.cut_vantage("surabaya", cut=False)
        assert (await ask(surabaya.dns_address, "whatsapp.pantau.test")).answer
