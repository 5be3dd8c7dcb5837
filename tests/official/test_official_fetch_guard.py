"""Status page fetches connect only to the address they checked, as probes do."""

from __future__ import annotations

import pytest
from official_fixtures import sp_summary
from official_server import PageServer

from pantau.official.errors import ErrorKind, PageError
from pantau.official.fetch import fetch, new_client
from pantau.probes.resolve import DnsClient, Nameserver
from pantau.probes.ssrf import Guard
from tests.probes.probe_servers import dns_zone

NAME = "status.rebind.test"


async def test_fetches_connect_to_the_address_they_checked_not_a_second_lookup(
    page_server: PageServer,
) -> None:
    """DNS rebinding: the answer changes between lookups; only one lookup may count."""
    page_server.json("/api/v2/summary.json", sp_summary())
    port = page_server.base.rsplit(":", 1)[1]
    url = f"http://{NAME}:{port}/api/v2/summary.json"
    with dns_zone({NAME: "127.0.0.1"}) as zone:
        dns = DnsClient([Nameserver("127.0.0.1", zone.port)])
        async with new_client(Guard(allow_private=True), dns) as client:
            assert (await fetch(client, url)).body
        zone.records[NAME] = "127.0.0.2"
        async with new_client(Guard(allow_private=True), dns) as client:
            with pytest.raises(PageError) as moved:
                await fetch(client, url, seconds=2)
        # A private answer is refused, and nothing is asked of DNS a second time.
        async with new_client(Guard(), dns) as client:
            with pytest.raises(PageError) as refused:
                await fetch(client, url)
    assert zone.queries == [NAME, NAME, NAME]
    # 127.0.0.2 has no listener on that port: the fetch went where the check said.
    assert moved.value.kind is ErrorKind.UNREACHABLE
    assert refused.value.kind is ErrorKind.REFUSED and "127.0.0.2" in str(refused.value)
    assert page_server.hits == {"/api/v2/summary.json": 1}
