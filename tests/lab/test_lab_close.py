"""The lab leaves no socket open: not when a start or bind fails, nor when a close fails."""

from __future__ import annotations

import errno
import os
import socket
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import pytest

from pantau.lab import Lab, OriginMode
from pantau.lab.certs import LabCertificates
from pantau.lab.edge import EdgeServer
from pantau.lab.origin import OriginServer, bind_loopback
from pantau.lab.scenario import ServiceSpec

SERVICES = [ServiceSpec(slug=f"site-{n}", name=f"Site {n}", cdn="cloudflare") for n in range(3)]


def open_files() -> int:
    return len(os.listdir("/proc/self/fd"))


def fail_on_call(
    original: Callable[..., Coroutine[Any, Any, None]], number: int, *, after: bool
) -> Callable[..., Coroutine[Any, Any, None]]:
    """`original`, except that its `number`th call raises (after doing its work if `after`)."""
    calls = 0

    async def failing(self: Any) -> None:
        nonlocal calls
        calls += 1
        if calls != number:
            return await original(self)
        if after:
            await original(self)
        raise OSError("injected failure")

    return failing


async def test_a_clean_run_closes_everything() -> None:
    before = open_files()
    async with Lab.start(SERVICES):
        assert open_files() > before
    assert open_files() == before


async def test_a_start_failing_half_way_closes_what_did_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The second service's origin is listening when its edge fails to start.
    monkeypatch.setattr(EdgeServer, "start", fail_on_call(EdgeServer.start, 2, after=False))
    before = open_files()
    with pytest.raises(OSError, match="injected"):
        async with Lab.start(SERVICES):
            raise AssertionError("the lab must not start")
    assert open_files() == before


async def test_a_failing_close_does_not_keep_the_other_parts_open(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(OriginServer, "close", fail_on_call(OriginServer.close, 2, after=True))
    before = open_files()
    with pytest.raises(OSError, match="injected"):
        async with Lab.start(SERVICES):
            pass
    assert open_files() == before


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A loopback port another program listens on."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield other.getsockname()[1]


def test_a_failed_bind_closes_its_socket(taken_port: int) -> None:
    before = open_files()
    with pytest.raises(OSError) as failure:
        bind_loopback(taken_port)
    # The traceback still holds the function's frame: only a close frees the socket.
    assert failure.value.errno == errno.EADDRINUSE and open_files() == before


@pytest.mark.parametrize("mode", [OriginMode.HEALTHY, OriginMode.BLACKHOLE])
async def test_an_origin_whose_port_was_taken_leaks_no_socket(mode: OriginMode) -> None:
    certs = LabCertificates()
    origin = OriginServer("site", certs)
    try:
        await origin.start()
        await origin.set_mode(OriginMode.REFUSE)
        with socket.socket() as other:
            other.bind(("127.0.0.1", origin.port))
            other.listen()
            before = open_files()
            with pytest.raises(OSError) as failure:
                await origin.set_mode(mode)
            assert failure.value.errno == errno.EADDRINUSE and open_files() == before
    finally:
        await origin.close()
        certs.close()
