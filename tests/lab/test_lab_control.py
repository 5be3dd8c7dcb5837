"""The control API and the `pantau lab` commands that drive it; clean shutdown."""

from __future__ import annotations

import asyncio
import socket

import httpx
from typer.testing import CliRunner

from pantau.catalog import Catalog
from pantau.cli import CliError, app
from pantau.lab import Lab, load_scenario
from pantau.lab.control import ControlServer


def run_cli(*args: str) -> tuple[int, str]:
    """Exit code and output as `pantau` would give them (`main` turns CliError into both)."""
    result = CliRunner().invoke(app, list(args))
    if isinstance(result.exception, CliError):
        return result.exception.code, str(result.exception)
    return result.exit_code, result.output


async def test_control_api_and_cli() -> None:
    scenario = load_scenario("isp-outage")
    async with Lab.start(scenario) as lab:
        control = ControlServer(lab)
        await control.start()
        try:
            url = control.url
            code, out = await asyncio.to_thread(
                run_cli, "lab", "set", "origin", "tokopedia", "http502", "--control", url)
            assert code == 0, out
            assert lab.state.origin["tokopedia"] == "http502"
            code, out = await asyncio.to_thread(
                run_cli, "lab", "set", "origin", "tokopedia", "melting", "--control", url)
            assert code == 2 and "unknown origin mode 'melting'" in out
            code, out = await asyncio.to_thread(
                run_cli, "lab", "cut", "surabaya", "--control", url)
            assert code == 0 and lab.vantages["surabaya"].cut
            code, out = await asyncio.to_thread(run_cli, "lab", "state", "--control", url)
            assert code == 0 and "tokopedia" in out and "CUT OFF" in out

            async with httpx.AsyncClient(base_url=url) as http:
                bad = await http.post("/services/whatsapp/edge", json={"mode": "error"})
                assert bad.status_code == 400 and "no CDN edge" in bad.json()["error"]
                missing = await http.post("/services/nope/dns", json={"mode": "ok"})
                assert missing.status_code == 404
                posted = await http.post("/services/youtube/status", json={
                    "incident": "x", "status": "investigating", "title": "Slow videos"})
                assert posted.json() == {"incident": "x", "status": "investigating"}
                applied = await http.post("/apply", json={"scenario": "isp-outage",
                                                          "offset": "10m"})
                assert applied.status_code == 200
                assert applied.json()["services"]["tokopedia"]["origin"] == "healthy"
                assert not lab.vantages["surabaya"].cut
                catalog = Catalog.from_entries((await http.get("/catalog")).json()["services"],
                                               "lab")
                assert catalog.get("tokopedia") is not None
        finally:
            await control.close()


async def test_catalog_points_at_the_lab() -> None:
    async with Lab.start(load_scenario("chatgpt-2025-01-23")) as lab:
        catalog = lab.catalog()
        chatgpt = catalog.get("chatgpt")
        assert chatgpt is not None and chatgpt.cdn == "cloudflare"
        assert str(chatgpt.endpoints[0].url) == lab.services["chatgpt"].url
        assert chatgpt.status_page is not None
        assert chatgpt.status_page.kind == "incidentio"
        assert str(chatgpt.status_page.url) == lab.services["chatgpt"].status_url


async def test_no_port_left_open_after_exit() -> None:
    scenario = load_scenario("isp-outage")
    async with Lab.start(scenario) as lab:
        tcp = [s.port for s in lab.services.values()] + [
            s.origin.port for s in lab.services.values()] + [lab.status.port, lab.network.port]
        udp = [lab.dns_address[1]] + [v.dns_address[1] for v in lab.vantages.values()]
    for port in tcp:
        with socket.socket() as sock:
            assert sock.connect_ex(("127.0.0.1", port)) != 0, port
    for port in udp:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind(("127.0.0.1", port))  # free again


def test_lab_run_and_scenarios_commands() -> None:
    code, out = run_cli("lab", "scenarios")
    assert code == 0 and "chatgpt-2025-01-23" in out and "isp-outage" in out
    code, out = run_cli("lab", "run", "chatgpt-2025-01-23", "--speed", "14400")
    assert code == 0, out
    assert "origin → http502" in out and "status → resolved" in out
    code, out = run_cli("lab", "run", "no-such-scenario")
    assert code == 2 and "no scenario named 'no-such-scenario'" in out
