from __future__ import annotations

import asyncio
import json

from aiohttp import web
from probe_servers import dns_server, free_port, serve
from typer.testing import CliRunner

from pantau.cli import app

runner = CliRunner()


async def invoke(*args: str) -> tuple[int, str]:
    # The CLI runs its own event loop, so it runs in a thread beside the test's servers.
    result = await asyncio.to_thread(runner.invoke, app, ["probe", *args])
    return result.exit_code, result.output


def site() -> web.Application:
    async def ok(_: web.Request) -> web.Response:
        return web.Response(text="hello")

    async def broken(_: web.Request) -> web.Response:
        return web.Response(status=500, text="boom")

    async def slow(_: web.Request) -> web.Response:
        await asyncio.sleep(0.15)
        return web.Response(text="late but right")

    async def odd_server(_: web.Request) -> web.Response:
        return web.Response(status=502, text="<center>nginx</center>",
                            headers={"Server": "[/x] nginx"})

    a = web.Application()
    a.router.add_get("/odd", odd_server)
    a.router.add_get("/slow", slow)
    a.router.add_get("/", ok)
    a.router.add_get("/broken", broken)
    return a


async def test_json_output_and_exit_codes() -> None:
    async with serve(site()) as port:
        with dns_server({"cli.pantau.test": "127.0.0.1"}) as dp:
            code, out = await invoke(f"http://cli.pantau.test:{port}/", "--json",
                                     "--resolver", f"127.0.0.1:{dp}", "--allow-private")
            bad_code, bad_out = await invoke(f"http://cli.pantau.test:{port}/broken", "--json",
                                             "--resolver", f"127.0.0.1:{dp}", "--allow-private")
    assert code == 0, out
    result = json.loads(out)
    assert {"url", "ok", "status", "layer", "cause", "cdn", "timings", "evidence",
            "explanation"} <= set(result)
    assert (result["ok"], result["status"], result["layer"]) == (True, 200, "none")
    assert set(result["timings"]) == {"dns_ms", "connect_ms", "tls_ms", "ttfb_ms", "total_ms"}
    assert result["timings"]["dns_ms"] is not None
    assert result["explanation"]["en"] and result["explanation"]["id"]
    assert bad_code == 1
    assert json.loads(bad_out)["layer"] == "app"


async def test_refused_connection_is_a_fault_and_the_table_renders() -> None:
    code, out = await invoke(f"http://127.0.0.1:{free_port()}/", "--allow-private",
                             "--timeout", "2", "--lang", "id")
    assert code == 1
    assert "network" in out and "connect_refused" in out
    assert "menolak koneksi" in out  # the Indonesian explanation


async def test_private_targets_need_permission() -> None:
    code, out = await invoke("http://127.0.0.1:9/", "--json")
    assert code == 2
    assert json.loads(out)["cause"] == "target_refused"


async def test_bad_usage_exits_2_without_traceback() -> None:
    for args in (["ftp://x/"], ["http://x/", "--resolver", "nonsense:xx"],
                 ["http://x/", "--timeout", "0"], ["http://x/", "-H", "no-colon"]):
        code, out = await invoke(*args)
        assert code == 2, (args, out)
        assert "Traceback" not in out


async def test_a_slow_correct_answer_is_overload_when_a_limit_is_set() -> None:
    async with serve(site()) as port:
        url = f"http://127.0.0.1:{port}/slow"
        relaxed, _ = await invoke(url, "--allow-private")
        strict, out = await invoke(url, "--allow-private", "--json", "--slow-ms", "100")
    assert relaxed == 0
    assert strict == 1
    assert (json.loads(out)["layer"], json.loads(out)["cause"]) == ("overload", "slow_response")


async def test_the_table_prints_what_the_server_sent_literally() -> None:
    async with serve(site()) as port:
        code, out = await invoke(f"http://127.0.0.1:{port}/odd", "--allow-private")
    assert code == 1, out
    assert "[/x] nginx" in out
