"""An acknowledged report survives `kill -9` of the server, on SQLite and on PostgreSQL;
the CLI reports to a real one."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import httpx
import pytest
from sqlalchemy import create_engine, select

from pantau.store.schema.reports import reports
from tests.crowd.served import PANTAU, Server, serve


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    yield from serve(tmp_path, f"sqlite:///{tmp_path / 'pantau.db'}")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    if request.param == "sqlite":
        database = f"sqlite:///{tmp_path / 'pantau.db'}"
    else:
        database = request.getfixturevalue("postgres_url")
    yield from serve(tmp_path, database)


def _stored_ids(database: str) -> set[str]:
    engine = create_engine(database)
    with engine.connect() as conn:
        stored = set(conn.scalars(select(reports.c.id)))
    engine.dispose()
    return stored


async def test_acknowledged_reports_survive_sigkill(any_server: Server) -> None:
    url, database, proc = any_server
    acked: list[str] = []
    killed = asyncio.Event()

    async def reporter(http: httpx.AsyncClient, n: int) -> None:
        for i in range(1000):
            headers = {"X-Forwarded-For": f"100.{64 + n}.{i % 250}.{i // 250 + 1}"}
            try:
                r = await http.post(f"{url}/api/v1/services/chatgpt/reports",
                                    json={"category": "website"}, headers=headers)
            except httpx.HTTPError:
                return  # the server is gone
            assert r.status_code == 202, r.text
            acked.append(r.json()["id"])
            if len(acked) >= 200 and not killed.is_set():
                killed.set()
                proc.send_signal(signal.SIGKILL)

    async with httpx.AsyncClient(timeout=10) as http:
        await asyncio.gather(*(reporter(http, n) for n in range(16)))
    assert killed.is_set() and proc.wait(timeout=10) == -signal.SIGKILL
    assert len(acked) >= 200
    assert set(acked) <= _stored_ids(database)


def test_cli_report_reaches_the_server(server: Server, tmp_path: Path) -> None:
    url, database, _ = server
    env = {**os.environ, "HOME": str(tmp_path)}
    ok = subprocess.run([PANTAU, "report", "chatgpt", "--category", "login", "--text",
                         "OTP tidak masuk", "--server", url, "--lang", "id"],
                        env=env, capture_output=True, text=True, timeout=30)
    assert ok.returncode == 0, ok.stderr
    assert "Laporan terkirim" in ok.stdout
    bad = subprocess.run([PANTAU, "report", "nope", "--server", url],
                         env=env, capture_output=True, text=True, timeout=30)
    assert bad.returncode == 1 and "unknown service 'nope'" in bad.stderr
    buruk = subprocess.run([PANTAU, "report", "nope", "--server", url, "--lang", "id"],
                           env=env, capture_output=True, text=True, timeout=30)
    assert buruk.returncode == 1 and "layanan 'nope' tidak dikenal" in buruk.stderr
    usage = subprocess.run([PANTAU, "report", "chatgpt", "--category", "coffee"],
                           env=env, capture_output=True, text=True, timeout=30)
    assert usage.returncode == 2
    gone = subprocess.run([PANTAU, "report", "chatgpt", "--server", "http://127.0.0.1:9"],
                          env=env, capture_output=True, text=True, timeout=30)
    assert gone.returncode == 3 and "Cannot reach http://127.0.0.1:9" in gone.stderr
    engine = create_engine(database)
    with engine.connect() as conn:
        rows = conn.execute(select(reports.c.category, reports.c.text)).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [("login", "OTP tidak masuk")]


class _NotPantau(BaseHTTPRequestHandler):
    """A server that answers a report as pantau never would: the status and body named
    by the path's service (a proxy's error page, another program on the port)."""

    answers: ClassVar[dict[str, tuple[int, bytes]]] = {
        "list": (500, b"[1, 2]"),
        "page": (202, b"<html>accepted</html>"),
        "empty": (202, b"{}"),
        "moved": (301, b""),
    }

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        status, body = self.answers[self.path.split("/")[4]]
        self.send_response(status)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_cli_report_says_in_one_line_when_the_server_is_not_pantau(tmp_path: Path) -> None:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _NotPantau)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}"
    env = {**os.environ, "HOME": str(tmp_path)}
    try:
        for service in _NotPantau.answers:
            done = subprocess.run([PANTAU, "report", service, "--server", url], env=env,
                                  capture_output=True, text=True, timeout=30)
            assert done.returncode == 3 and "Traceback" not in done.stderr, done.stderr
            assert done.stderr.strip().splitlines() == [
                f"error: {url} answered HTTP {_NotPantau.answers[service][0]} but not as a "
                "pantau server does"]
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.mark.parametrize("service", ["..", ".", "chatgpt/../healthz", "ChatGPT"])
def test_cli_report_refuses_a_service_that_cannot_be_a_name(tmp_path: Path, service: str) -> None:
    # Before anything is sent: "..", once in the URL, posted to /api/v1/reports.
    env = {**os.environ, "HOME": str(tmp_path), "LANG": "id_ID.UTF-8"}
    done = subprocess.run([PANTAU, "report", service, "--server", "http://127.0.0.1:9"],
                          env=env, capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"error: {service!r} bukan nama layanan (huruf, angka dan -, seperti chatgpt)"]
