"""`pantau demo` starts within 10 seconds; Ctrl-C or SIGTERM leave nothing behind."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_demo_starts_fast_and_stops_cleanly(stop: signal.Signals) -> None:
    port = free_port()
    started = time.monotonic()
    demo = subprocess.Popen(
        [sys.executable, "-m", "pantau", "demo", "--port", str(port), "--speed", "120"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        ready = None
        while time.monotonic() - started < 10:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/", timeout=1).status_code == 200:
                    ready = time.monotonic() - started
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        assert ready is not None, "the demo did not answer within 10 s"
        demo.send_signal(stop)
        out, _ = demo.communicate(timeout=10)
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
    assert demo.returncode == 0
    assert f"http://127.0.0.1:{port}/" in out and "pantau demo stopped." in out
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0
