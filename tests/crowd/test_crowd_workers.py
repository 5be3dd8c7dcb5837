"""`pantau serve --workers 2`: two processes on one port count one crowd through Redis,
and a worker that dies is replaced while the other answers."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import Integer, create_engine, func, select

from pantau.store.schema.reports import reports
from tests.crowd.served import PANTAU, Server, serve
from tests.services import REDIS_URL

URL = "/api/v1/services/chatgpt/reports"
CONNECTIONS = 20
PER_CONNECTION = 10


def _workers(parent: int) -> set[int]:
    """The worker processes of uvicorn's supervisor `parent` (not multiprocessing's
    resource tracker, its other child)."""
    found = set()
    for child in Path(f"/proc/{parent}/task/{parent}/children").read_text().split():
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue  # gone meanwhile
        if b"spawn_main" in command:
            found.add(int(child))
    return found


def _wait_for_workers(parent: int, n: int, besides: set[int] | None = None) -> set[int]:
    """The `n` workers of `parent` once they are up, none of them one of `besides`."""
    deadline = time.monotonic() + 30
    while True:
        found = _workers(parent)
        if len(found) == n and not found & (besides or set()):
            return found
        assert time.monotonic() < deadline, f"workers {found}, wanted {n} others than {besides}"
        time.sleep(0.2)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def workers_server(
    request: pytest.FixtureRequest, tmp_path: Path, redis: Redis
) -> Iterator[Server]:
    if request.param == "sqlite":
        database = f"sqlite:///{tmp_path / 'pantau.db'}"
    else:
        database = request.getfixturevalue("postgres_url")
    # Options beat PANTAU_*_FILE settings, in the workers as in the parent.
    decoy = tmp_path / "database-url"
    decoy.write_text(f"sqlite:///{tmp_path / 'decoy.db'}")
    yield from serve(tmp_path, database, "--workers", "2", "--redis", REDIS_URL,
                     "--database", database, PANTAU_DATABASE_FILE=str(decoy))


async def _report_all(url: str, run: str, phase: int, acked: list[str]) -> None:
    """CONNECTIONS clients, each sending PER_CONNECTION reports from new reporters, each on
    a /48 of its own, and one from the reporter every phase shares; a report is sent
    again when its connection was refused or broken before it was sent (a worker gone).
    `run` (6 hex digits) keeps the networks apart from earlier runs' in Redis, whose
    voices they would have used up."""
    prefix = f"fd{run[:2]}:{run[2:6]}"
    repeated = {"X-Pantau-Client": f"same-{run}", "X-Forwarded-For": f"{prefix}:ffff::1"}

    async def client(n: int) -> None:
        async with httpx.AsyncClient(base_url=url, timeout=10) as http:
            first = (phase * CONNECTIONS + n) * PER_CONNECTION
            sends = [{"X-Pantau-Client": f"c{first + i}-{run}",
                      "X-Forwarded-For": f"{prefix}:{first + i:x}::1"}
                     for i in range(PER_CONNECTION)]
            for headers in [*sends, repeated]:
                for attempt in range(20):
                    try:
                        r = await http.post(URL, json={"category": "app"}, headers=headers)
                        break
                    # Only where the report cannot have arrived: resending one that timed
                    # out could store it twice.
                    except (httpx.ConnectError, httpx.RemoteProtocolError):
                        assert attempt < 19, "no worker took the report"
                        await asyncio.sleep(0.1)
                assert r.status_code == 202, r.text
                acked.append(r.json()["id"])

    await asyncio.gather(*(client(n) for n in range(CONNECTIONS)))


@pytest.mark.redis
def test_workers_count_one_crowd_and_survive_a_crash(workers_server: Server) -> None:
    url, database, proc = workers_server
    first = _wait_for_workers(proc.pid, 2)
    run = uuid.uuid4().hex[:6]
    acked: list[str] = []
    asyncio.run(_report_all(url, run, 0, acked))
    killed = min(first)
    os.kill(killed, signal.SIGKILL)
    asyncio.run(_report_all(url, run, 1, acked))  # answered meanwhile by the other worker
    second = _wait_for_workers(proc.pid, 2, besides={killed})
    asyncio.run(_report_all(url, run, 2, acked))

    engine = create_engine(database)
    with engine.connect() as conn:
        ours = reports.c.id.in_(acked)  # the session's PostgreSQL database has others'
        stored = set(conn.scalars(select(reports.c.id).where(ours)))
        counted = conn.scalar(select(func.count()).where(ours, reports.c.counted))
        repeated = conn.execute(
            select(func.count(), func.sum(reports.c.counted.cast(Integer))).where(ours)
            .group_by(reports.c.reporter).having(func.count() > 1)
        ).all()
    engine.dispose()
    assert set(acked) == stored
    # Every new reporter once, and the one who reported 3 × 20 times once, whichever
    # process took each report.
    assert counted == 3 * CONNECTIONS * PER_CONNECTION + 1
    assert [tuple(r) for r in repeated] == [(3 * CONNECTIONS, 1)]

    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 0
    assert not [pid for pid in first | second if Path(f"/proc/{pid}").exists()]


def test_workers_without_redis_are_refused(tmp_path: Path) -> None:
    env = {**os.environ, "HOME": str(tmp_path), "PANTAU_MONITOR": "false"}
    env.pop("PANTAU_REDIS", None)
    done = subprocess.run([PANTAU, "serve", "--workers", "2", "--database",
                           f"sqlite:///{tmp_path / 'p.db'}"],
                          env=env, capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert "PANTAU_WORKERS above 1 needs PANTAU_REDIS" in done.stderr
