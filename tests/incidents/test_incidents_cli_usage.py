"""Commands that ask a pantau server: a malformed URL is bad usage, another web server
at that address is a server error (not a traceback)."""

from __future__ import annotations

import socket

import httpx
import pytest
from aiohttp import web
from typer.testing import CliRunner

from pantau.cli import app
from pantau.cli.server_api import ServerError, service_status


@pytest.mark.parametrize("command", [["check", "chatgpt"], ["wait", "chatgpt"],
                                     ["report", "chatgpt"]])
def test_a_malformed_server_url_is_bad_usage(command: list[str]) -> None:
    result = CliRunner().invoke(app, [*command, "--server", "http://[::1"])
    assert result.exit_code == 2, result.output
    assert "not an http(s) URL" in result.output


@pytest.mark.parametrize("status", [404, 200])
async def test_a_server_that_is_not_pantau_is_a_server_error(status: int) -> None:
    async def page(_: web.Request) -> web.Response:
        return web.Response(status=status, text="<html>not here</html>",
                            content_type="text/html")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", page)
    runner = web.AppRunner(app)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    await web.SockSite(runner, sock).start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            with pytest.raises(ServerError, match=f"HTTP {status}"):
                await service_status(client, "chatgpt", "UTC")
    finally:
        await runner.cleanup()
