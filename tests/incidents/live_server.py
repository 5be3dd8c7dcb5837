"""A real pantau server (uvicorn) on a loopback port, inside the test's event loop."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from typing import Any

import uvicorn
from fastapi import Request, Response

from pantau.runtime import Runtime
from pantau.web.app import create_app


@contextlib.asynccontextmanager
async def live_server(rt: Runtime, seen: list[str] | None = None) -> AsyncIterator[str]:
    """Serve `rt`; the path of every request is appended to `seen` when given."""
    sock = socket.socket()
    # Accepted connections inherit it: without, a response written in two parts waits
    # for the client's delayed ACK (40 ms a request).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app = create_app(rt)
    if seen is not None:
        @app.middleware("http")
        async def _record(request: Request, call_next: Any) -> Response:
            seen.append(request.url.path)
            response: Response = await call_next(request)
            return response
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(10):
            while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
                await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


async def pantau(*args: str) -> tuple[int, str, str]:
    """Run the `pantau` CLI in a subprocess (this loop keeps serving meanwhile)."""
    import sys

    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "pantau", *args, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()
