"""Acceptance: every lab CDN personality x origin/edge/DNS/TLS fault, through the CLI.

Real sockets end to end: the lab's DNS server, edges and origins on loopback, and
`pantau probe --json` resolving through the lab DNS and trusting the lab CA.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from typer.testing import CliRunner

from pantau.cli import app
from pantau.lab.lab import Lab
from pantau.lab.modes import DnsMode, EdgeMode, OriginMode, Personality

pytestmark = pytest.mark.asyncio(loop_scope="module")
runner = CliRunner()

CDNS = [p for p in Personality if p is not Personality.NONE]
ORIGIN_BEHIND_CDN: dict[OriginMode, str] = {
    OriginMode.HEALTHY: "none",
    OriginMode.SLOW: "none",
    OriginMode.REFUSE: "origin",
    OriginMode.BLACKHOLE: "origin",
    OriginMode.UNREACHABLE: "origin",
    OriginMode.DNS_FAIL: "origin",
    OriginMode.HANG: "origin",
    OriginMode.RESET: "origin",
    OriginMode.EMPTY: "origin",
    OriginMode.HTTP_500: "app",
    OriginMode.HTTP_502: "origin",
    OriginMode.HTTP_504: "origin",
    OriginMode.MAINTENANCE: "maintenance",
    OriginMode.OVERLOAD: "overload",
    OriginMode.TLS_SELF_SIGNED: "origin",
    OriginMode.TLS_EXPIRED: "origin",
    OriginMode.TLS_WRONG_HOST: "origin",
    OriginMode.TLS_HANDSHAKE: "origin",
}
ORIGIN_DIRECT: dict[OriginMode, str] = {
    OriginMode.HEALTHY: "none",
    OriginMode.REFUSE: "network",
    OriginMode.BLACKHOLE: "network",
    OriginMode.UNREACHABLE: "network",
    OriginMode.HANG: "origin",
    OriginMode.RESET: "origin",
    OriginMode.EMPTY: "origin",
    OriginMode.HTTP_500: "app",
    OriginMode.HTTP_502: "origin",
    OriginMode.HTTP_504: "origin",
    OriginMode.MAINTENANCE: "maintenance",
    OriginMode.OVERLOAD: "overload",
    OriginMode.TLS_SELF_SIGNED: "tls",
    OriginMode.TLS_EXPIRED: "tls",
    OriginMode.TLS_WRONG_HOST: "tls",
    OriginMode.TLS_HANDSHAKE: "tls",
}
EDGE: dict[EdgeMode, str] = {
    EdgeMode.ERROR: "edge",
    EdgeMode.CHALLENGE: "blocked",
    EdgeMode.BLOCK: "blocked",
    EdgeMode.BLOCK_IP: "blocked",
    EdgeMode.RATE_LIMIT: "blocked",
}
DNS: dict[DnsMode, str] = {
    DnsMode.NXDOMAIN: "dns",
    DnsMode.SERVFAIL: "dns",
    DnsMode.TIMEOUT: "dns",
}

Case = tuple[Personality, str, str, str]  # personality, kind, mode, expected layer
CASES: list[Case] = (
    [(p, "origin", m.value, layer) for p in CDNS for m, layer in ORIGIN_BEHIND_CDN.items()]
    + [(Personality.NONE, "origin", m.value, layer) for m, layer in ORIGIN_DIRECT.items()]
    + [(p, "edge", m.value, layer) for p in CDNS for m, layer in EDGE.items()]
    + [(p, "dns", m.value, layer) for p in Personality for m, layer in DNS.items()]
)


def slug(p: Personality) -> str:
    return f"site-{p.value if p is not Personality.NONE else 'direct'}"


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def lab() -> AsyncIterator[Lab]:
    async with Lab.start(connect_timeout=0.3, read_timeout=0.5, slow_seconds=0.1) as running:
        yield running


async def probe(lab: Lab, url: str, seconds: float) -> tuple[int, dict[str, object]]:
    host, port = lab.dns_address
    args = ["probe", url, "--json", "--resolver", f"{host}:{port}", "--allow-private",
            "--ca-file", str(lab.ca_file), "--timeout", str(seconds)]
    # The CLI runs its own event loop: give it a thread beside the lab's loop.
    result = await asyncio.to_thread(runner.invoke, app, args)
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.output)


@pytest.mark.parametrize(("personality", "kind", "mode", "layer"), CASES,
                         ids=[f"{c[0].value}-{c[1]}-{c[2]}" for c in CASES])
async def test_probe_names_layer_and_cdn(
    lab: Lab, personality: Personality, kind: str, mode: str, layer: str
) -> None:
    name = slug(personality)
    service = lab.services[name]
    try:
        if kind == "origin":
            await lab.set_origin(name, mode)
        elif kind == "edge":
            lab.set_edge(name, mode)
        else:
            lab.set_dns(name, mode)
        # A direct client waits out a silent server itself; edges answer within 0.5 s.
        seconds = 0.6 if kind == "dns" or personality is Personality.NONE else 4.0
        code, result = await probe(lab, service.url, seconds)
    finally:
        await lab.set_origin(name, OriginMode.HEALTHY)
        if service.edge is not None:
            lab.set_edge(name, EdgeMode.HEALTHY)
        lab.set_dns(name, DnsMode.OK)
    assert result["layer"] == layer, result
    assert code == (0 if layer == "none" else 1)
    if kind != "dns" and personality is not Personality.NONE:
        assert result["cdn"] == personality.value, result
    elif personality is Personality.NONE:
        assert result["cdn"] is None, result
    explanation = result["explanation"]
    assert isinstance(explanation, dict) and explanation["en"] and explanation["id"]
