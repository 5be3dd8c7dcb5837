"""`pantau check` leaves nothing behind when its checks from this machine end early."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from pantau.cli.check import run_check
from pantau.probes.resolve import DnsClient, Nameserver
from pantau.probes.ssrf import Guard
from pantau.settings import load_settings


class HangingServer:
    """Not a pantau server (so `check` uses the bundled catalog), and it never answers a
    status request nor a connectivity check: only the client can end those."""

    def __init__(self) -> None:
        self.asked_status = asyncio.Event()
        self.status_hung_up = asyncio.Event()
        self.url = ""

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        line = (await reader.readuntil(b"\r\n\r\n")).split(b"\r\n", 1)[0]
        if b"/status" in line:
            self.asked_status.set()
            await reader.read()
            self.status_hung_up.set()
        elif b"/api/v1/services" in line:
            writer.write(b"HTTP/1.1 500 Oops\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            await writer.drain()
        else:
            await reader.read()
        writer.close()


@pytest.fixture
async def server() -> AsyncIterator[HangingServer]:
    hanging = HangingServer()
    listener = await asyncio.start_server(hanging.serve, "127.0.0.1", 0)
    hanging.url = f"http://127.0.0.1:{listener.sockets[0].getsockname()[1]}"
    yield hanging
    listener.close()
    await listener.wait_closed()


def check(server: HangingServer) -> asyncio.Task[object]:
    return asyncio.create_task(run_check(
        "chatgpt", load_settings(), server.url, [f"{server.url}/generate_204"],
        DnsClient([Nameserver.parse("127.0.0.1:9")]), Guard(allow_private=True),
        None, 30.0, "UTC",
    ))


async def test_an_interrupted_check_hangs_up_on_the_server(server: HangingServer) -> None:
    task = check(server)
    await asyncio.wait_for(server.asked_status.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # The server's own handlers may still be winding down; nothing else may be left.
    left = [t for t in asyncio.all_tasks()
            if t is not asyncio.current_task() and "HangingServer.serve" not in repr(t)]
    assert left == []
    await asyncio.wait_for(server.status_hung_up.wait(), 5)
