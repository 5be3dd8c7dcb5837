"""The official API router, the background job and `pantau official`, end to end on loopback."""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
import sys
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import typer
from fastapi import FastAPI
from official_fixtures import sp_incident, sp_maintenance, sp_summary
from official_server import PageServer
from rich.console import Console
from typer.testing import CliRunner

from pantau.catalog import Catalog
from pantau.cli import CliError
from pantau.cli.official import register, show
from pantau.clock import FrozenClock
from pantau.incidents.model import Incident, Scope
from pantau.official.detect import ADAPTERS
from pantau.official.errors import ErrorKind, PageError
from pantau.official.fetch import fetch, new_client
from pantau.official.job import Watch, watch_page, watches
from pantau.official.model import PageKind, combine
from pantau.official.poller import PagePoller
from pantau.official.statuspage import parse_summary
from pantau.probes.ssrf import Guard
from pantau.runtime import Runtime
from pantau.settings import Settings
from pantau.signals import Layer, ServiceState
from pantau.signals import Text as SText
from pantau.store import Store
from pantau.store.incidents import IncidentStoreMixin
from pantau.store.official import OfficialStoreMixin
from pantau.web.app import create_app
from pantau.web.official import router

T = datetime(2025, 1, 23, 12, 0, tzinfo=UTC)


class _Store(OfficialStoreMixin):
    """A store with the official methods and no incident store: the lag endpoint then
    needs its alarm times from elsewhere."""


def _catalog(page: str, kind: str = "statuspage") -> Catalog:
    return Catalog.from_entries(
        [
            {
                "slug": "chatgpt",
                "name": "ChatGPT",
                "aliases": ["openai"],
                "status_page": {"url": page, "kind": kind},
            },
            {"slug": "sora", "name": "Sora", "status_page": {"url": page, "kind": kind}},
            {"slug": "nopage", "name": "No Page"},
        ],
        "test",
    )


@pytest.fixture
async def sstore(tmp_path: Path) -> AsyncIterator[_Store]:
    s = _Store(f"sqlite:///{tmp_path}/p.db")
    s.migrate()
    await s.start()
    yield s
    await s.close()


def _app(store: _Store, catalog: Catalog, clock: FrozenClock) -> FastAPI:
    app = FastAPI()
    app.include_router(router)
    app.state.store, app.state.catalog, app.state.clock = store, catalog, clock
    app.state.settings = Settings()
    return app


async def _run_job_for(
    store: _Store, page_server: PageServer, clock: FrozenClock, polls: int
) -> None:
    """Run the real job loop until the server has seen `polls` requests. A poll is
    recorded before the next one starts, so waiting for the next poll's first request
    means the previous poll is in the store."""
    async with httpx.AsyncClient() as client:
        task = asyncio.create_task(
            watch_page(
                store,
                client,
                clock,
                Watch(page_server.base + "/", PageKind.STATUSPAGE),
                interval=60,
                rng=random.Random(1),
            )
        )
        await page_server.wait_hits(polls)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_job_and_api(page_server: PageServer, sstore: _Store) -> None:
    inc = sp_incident(components=["ChatGPT"])
    page_server.json(
        "/api/v2/summary.json",
        sp_summary(
            "major", chatgpt="major_outage", incidents=[inc], maintenances=[sp_maintenance()]
        ),
    )
    clock = FrozenClock(T)
    catalog = _catalog(page_server.base + "/")
    assert watches(catalog) == [Watch(page_server.base + "/", PageKind.STATUSPAGE)]
    await _run_job_for(sstore, page_server, clock, polls=4)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(_app(sstore, catalog, clock)), base_url="http://t"
    ) as web:
        chat = (await web.get("/api/v1/services/chatgpt/official")).json()
        assert chat["checked"] and chat["state"] == "major_outage"  # its component's state
        assert chat["page_state"] == "partial_outage" and not chat["stale"]
        assert [c["name"] for c in chat["components"]] == ["ChatGPT"]
        assert [i["id"] for i in chat["open_incidents"]] == ["inc1"]
        assert chat["open_incidents"][0]["first_post_at"] == "2025-01-23T12:10:00+00:00"
        sora = (await web.get("/api/v1/services/sora/official")).json()
        # Sora's own component is fine and the incident names only ChatGPT.
        assert sora["state"] == "operational" and sora["open_incidents"] == []
        assert sora["maintenance"] == []  # the window touches the API component only
        missing = await web.get("/api/v1/services/nopage/official")
        assert missing.status_code == 404 and "no official status page" in missing.json()["detail"]
        assert (await web.get("/api/v1/services/zzz/official")).status_code == 404
        # The page goes down: the last state stays, marked stale with the error.
        page_server.json("/api/v2/summary.json", {}, status=502)
        # Each failing poll is one request (the required summary fails first).
        await _run_job_for(sstore, page_server, clock, polls=sum(page_server.hits.values()) + 2)
        chat = (await web.get("/api/v1/services/chatgpt/official")).json()
        assert chat["stale"] and chat["state"] == "major_outage"
        assert "HTTP 502" in chat["last_error"]["en"] and "HTTP 502" in chat["last_error"]["id"]
        # The frozen clock lets the job poll again at once: one or more, all the 502.
        assert chat["recent_errors"] and {e["status"] for e in chat["recent_errors"]} == {502}
        # Lag: pantau alarmed 25 minutes before the vendor's first post.
        lag = await web.get("/api/v1/official/lag")
        assert lag.status_code == 503 and "alarm times" in lag.json()["detail"]

        async def alarm_times(service: str, since: datetime, until: datetime) -> Sequence[datetime]:
            return [T - timedelta(minutes=15)] if service in ("chatgpt", "sora") else []

        web._transport.app.state.official_alarm_times = alarm_times  # type: ignore[attr-defined]
        clock.advance(3600 * 8)
        (vendor,) = (await web.get("/api/v1/official/lag?days=7")).json()["vendors"]
        assert vendor["services"] == ["chatgpt", "sora"]
        assert (vendor["incidents"], vendor["admitted"], vendor["median_s"]) == (1, 1, 1500.0)


async def test_job_records_unreachable_page(dead_url: str, sstore: _Store) -> None:
    clock = FrozenClock(T)
    async with httpx.AsyncClient() as client:
        task = asyncio.create_task(
            watch_page(
                sstore,
                client,
                clock,
                Watch(dead_url + "/", None),
                interval=60,
                rng=random.Random(1),
            )
        )
        for _ in range(200):
            if await sstore.official_errors(dead_url + "/"):
                break
            await asyncio.sleep(0.01)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    (err,) = (await sstore.official_errors(dead_url + "/"))[:1]
    assert err.kind == "unreachable" and "could not connect" in err.message


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pantau", "official", *args, "--allow-private"],
        capture_output=True,
        text=True,
        timeout=30,
    )


async def test_cli_prints_page_text_and_json(page_server: PageServer) -> None:
    page_server.json(
        "/api/v2/summary.json",
        sp_summary(
            "major",
            chatgpt="major_outage",
            incidents=[sp_incident(components=["ChatGPT"])],
            maintenances=[sp_maintenance()],
        ),
    )
    text = await asyncio.to_thread(_cli, page_server.base + "/", "--lang", "id")
    assert text.returncode == 0, text.stderr
    assert "gangguan sebagian" in text.stdout and "Elevated error rates" in text.stdout
    assert "Database upgrade" in text.stdout
    out = await asyncio.to_thread(_cli, page_server.base + "/", "--json", "--kind", "statuspage")
    assert out.returncode == 0
    doc = json.loads(out.stdout)
    assert doc["state"] == "partial_outage" and doc["incidents"][0]["id"] == "inc1"


async def test_cli_page_errors_exit_1(page_server: PageServer, dead_url: str) -> None:
    page_server.raw("/api/v2/summary.json", b'{"page": ', content_type="application/json")
    bad = await asyncio.to_thread(_cli, page_server.base + "/", "--kind", "statuspage")
    assert bad.returncode == 1 and "cut off" in bad.stderr and "Traceback" not in bad.stderr
    down = await asyncio.to_thread(_cli, dead_url + "/", "--json")
    assert down.returncode == 1 and json.loads(down.stdout)["error"] == "unreachable"


def test_cli_refuses_a_private_address_unless_allowed() -> None:
    # The guard answers before any connection: nothing needs to listen there.
    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)  # two commands, so `official` stays a subcommand
    result = CliRunner().invoke(app, ["official", "http://127.0.0.1:9/", "--kind", "statuspage"])
    assert isinstance(result.exception, CliError) and result.exception.code == 1
    assert "private or internal network" in str(result.exception)
    assert "127.0.0.1" in str(result.exception)


async def test_fetch_with_a_guard_refuses_before_connecting(page_server: PageServer) -> None:
    page_server.json("/api/v2/summary.json", sp_summary())
    async with new_client(Guard()) as client:
        with pytest.raises(PageError) as refused:
            await fetch(client, page_server.base + "/api/v2/summary.json")
    assert refused.value.kind is ErrorKind.REFUSED and refused.value.text.id
    assert sum(page_server.hits.values()) == 0  # refused before any request left
    async with new_client(Guard(allow_private=True)) as client:
        assert (await fetch(client, page_server.base + "/api/v2/summary.json")).body


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["ftp://x"], "not an http(s) URL"),
        (["http://[::1/"], "not an http(s) URL"),
        (["http://x/", "--kind", "gopher"], "--kind must be one of"),
        (["http://x/", "--lang", "fr"], "--lang must be en or id"),
    ],
)
def test_cli_bad_usage_exits_2(args: list[str], words: str) -> None:
    # In process: these fail before any network, and a subprocess costs seconds.
    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)  # two commands, so `official` stays a subcommand
    result = CliRunner().invoke(app, ["official", *args])
    assert isinstance(result.exception, CliError)
    assert result.exception.code == 2 and words in str(result.exception)


class _BothStore(Store, OfficialStoreMixin, IncidentStoreMixin):
    pass


async def test_lag_reads_alarm_times_from_the_incident_store(
    page_server: PageServer, tmp_path: Path
) -> None:
    store = _BothStore(f"sqlite:///{tmp_path}/both.db")
    store.migrate()
    await store.start()
    try:
        catalog = _catalog(page_server.base + "/")
        await store.sync_catalog(catalog, T)
        opened = T - timedelta(minutes=20)
        inc = Incident(
            id="chatgpt-1",
            service="chatgpt",
            started_at=opened - timedelta(minutes=3),
            opened_at=opened,
            state=ServiceState.OUTAGE,
            worst_state=ServiceState.OUTAGE,
            layer=Layer.ORIGIN,
            scope=Scope.EVERYONE,
            title=SText("down", "mati"),
        )
        await store.save_fusion(T, [], {}, [inc], [])
        page_server.json("/api/v2/summary.json", sp_summary(incidents=[sp_incident()]))
        await _run_job_for(store, page_server, FrozenClock(T), polls=4)
        clock = FrozenClock(T + timedelta(hours=8))
        app = _app(store, catalog, clock)  # type: ignore[arg-type]
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app), base_url="http://t"
        ) as web:
            (vendor,) = (await web.get("/api/v1/official/lag")).json()["vendors"]
            old = (await web.get("/api/v1/services/chatgpt/official")).json()
        assert old["stale"] and old["failures"] == 0  # no error, but last read 8 hours ago
        # First post 12:10, pantau's alarm 11:40.
        assert (vendor["admitted"], vendor["median_s"]) == (1, 1800.0)
    finally:
        await store.close()


async def test_job_survives_a_database_failure(page_server: PageServer, tmp_path: Path) -> None:
    store = _Store(f"sqlite:///{tmp_path}/broken.db")
    store.migrate()
    with store.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE official_pages")
    await store.start()
    try:
        page_server.json("/api/v2/summary.json", sp_summary())
        async with httpx.AsyncClient() as client:
            task = asyncio.create_task(
                watch_page(
                    store,
                    client,
                    FrozenClock(T),
                    Watch(page_server.base + "/", PageKind.STATUSPAGE),
                    interval=60,
                    rng=random.Random(1),
                )
            )
            await page_server.wait_hits(9)  # three full polls of three documents
            assert not task.done()
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        # Nothing was recorded, so nothing may be taken for granted: no conditional 304s.
        assert page_server.not_modified == 0
    finally:
        await store.close()


async def test_served_by_the_real_app(page_server: PageServer, tmp_path: Path) -> None:
    """The router as `create_app` serves it, over the full `Store`."""
    page_server.json("/api/v2/summary.json", sp_summary("minor", api="degraded_performance"))
    catalog = _catalog(page_server.base + "/")
    store = Store(f"sqlite:///{tmp_path}/app.db")
    store.migrate()
    clock = FrozenClock(T)
    runtime = Runtime(settings=Settings(), store=store, catalog=catalog, clock=clock)
    await store.start()
    try:
        async with httpx.AsyncClient() as client:
            result = await PagePoller(
                page_server.base + "/", ADAPTERS[PageKind.STATUSPAGE], client, clock
            ).poll()
        assert result.snapshot is not None
        await store.official_record_poll(
            page_server.base + "/", PageKind.STATUSPAGE, T, result.snapshot
        )
        transport = httpx.ASGITransport(create_app(runtime))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as web:
            body = (await web.get("/api/v1/services/chatgpt/official")).json()
        assert (body["page_state"], body["state"], body["stale"]) == (
            "degraded",
            "operational",
            False,
        )
    finally:
        await store.close()


def test_cli_prints_vendor_brackets_literally() -> None:
    # Vendor text is not Rich markup: "[/v1/chat]" used to abort the printout and
    # "[beta]" to vanish.
    inc = sp_incident(components=["[beta] API"])
    inc["name"] = "Errors on [/v1/chat]"
    doc = sp_summary("major", incidents=[inc])
    doc["components"].append({"id": "cb", "name": "[beta] API", "status": "major_outage",
                              "group_id": None, "group": False})
    snap = combine(PageKind.STATUSPAGE, "http://status.test/", T,
                   [parse_summary("http://status.test/", json.dumps(doc).encode())])
    console = Console(record=True, width=200)
    show(snap, "en", console)
    out = console.export_text()
    assert "Errors on [/v1/chat]" in out and "[beta] API" in out
