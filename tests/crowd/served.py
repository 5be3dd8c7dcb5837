"""`pantau serve` as its own process (a process group, with any workers it starts), on a
free port, for the tests that need a real server: durability, workers."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from tests.crowd.crowd_fixtures import free_port

PANTAU = str(Path(sys.executable).parent / "pantau")

Server = tuple[str, str, subprocess.Popen[bytes]]
"""The server's URL, its database's URL and its process."""


def serve(tmp_path: Path, database: str, *args: str, **env: str) -> Iterator[Server]:
    """Start `pantau serve ARGS` (environment `env` on top of the test's) and wait until
    it answers; yield it, then kill what is left of its process group."""
    port = free_port()
    environ = {
        **os.environ,
        "PANTAU_DATABASE": database,
        "PANTAU_PORT": str(port),
        "PANTAU_MONITOR": "false",  # no probes of the bundled catalog's real hosts
        "PANTAU_TRUSTED_PROXIES": "127.0.0.1/32",
        "PANTAU_REPORT_LIMIT_ADDRESS": "100/second",
        "PANTAU_REPORT_LIMIT_NETWORK": "1000/second",
        "HOME": str(tmp_path),
        **env,
    }
    proc = subprocess.Popen([PANTAU, "serve", *args], env=environ, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    try:
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                said = proc.stderr.read().decode(errors="replace")  # type: ignore[union-attr]
                raise AssertionError(f"pantau serve did not start: …{said[-3000:]}")
            time.sleep(0.2)
        yield url, database, proc
    finally:
        # The group: workers outlive a parent killed with SIGKILL.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        assert proc.stderr is not None
        proc.stderr.close()
