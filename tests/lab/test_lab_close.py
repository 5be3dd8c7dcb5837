"""The lab leaves no socket open: not when a start fails half-way, nor when a close fails."""

from __future__ import annotations

import os
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from pantau.lab import Lab
from pantau.lab.edge import EdgeServer
from pantau.lab.origin import OriginServer
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
