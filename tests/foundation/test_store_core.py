from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select
from sqlalchemy.engine import Connection

from pantau.catalog import Catalog
from pantau.store import Overloaded, Store, StoreError
from pantau.store.schema import metadata
from pantau.store.schema.core import agents, services
from pantau.store.writer import BatchWriter

NOW = datetime(2025, 1, 23, 11, 33, tzinfo=UTC)


def test_migrations_match_the_tables(store: Store) -> None:
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == [], "run: python -m pantau.store.migrations.regen"


async def test_sync_catalog_records_every_service(store: Store) -> None:
    catalog = Catalog.default()
    await store.sync_catalog(catalog, NOW)
    await store.sync_catalog(catalog, NOW)  # idempotent
    rows = await store.read(lambda c: c.execute(select(services)).mappings().all())
    assert {r["slug"] for r in rows} == {s.slug for s in catalog.services}
    chatgpt = next(r for r in rows if r["slug"] == "chatgpt")
    assert chatgpt["cdn"] == "cloudflare"
    assert chatgpt["definition"]["status_page"]["kind"] == "incidentio"


async def test_sync_catalog_updates_what_changed_in_batches(store: Store) -> None:
    # More services than one INSERT takes; then every name changed and more added.
    template = Catalog.default().services[0]

    def catalog(n: int, name: str) -> Catalog:
        return Catalog(services=tuple(
            template.model_copy(update={"slug": f"svc-{i}", "name": f"{name} {i}"})
            for i in range(n)))

    await store.sync_catalog(catalog(1200, "Old"), NOW)
    later = NOW + timedelta(days=1)
    await store.sync_catalog(catalog(1203, "New"), later)
    rows = await store.read(lambda c: c.execute(select(services)).mappings().all())
    assert len(rows) == 1203
    assert {r["name"].split()[0] for r in rows} == {"New"}
    assert {r["updated_at"].replace(tzinfo=UTC) for r in rows} == {later}


def _insert_agent(n: int) -> object:
    def write(conn: Connection) -> int:
        conn.execute(agents.insert().values(id=f"a{n}", name=f"agent {n}", token_hash="x",
                                            enabled=True, created_at=NOW))
        return n
    return write


async def test_group_commit_batches_concurrent_writes(store: Store) -> None:
    results = await asyncio.gather(*(store.writer.submit(_insert_agent(n)) for n in range(200)))
    assert results == list(range(200))
    count = await store.read(lambda c: len(c.execute(select(agents.c.id)).all()))
    assert count == 200
    assert store.writer.batches < 200, "concurrent writes should share transactions"


async def test_one_bad_write_does_not_spoil_its_batch(store: Store) -> None:
    await store.writer.submit(_insert_agent(1))
    outcomes = await asyncio.gather(
        store.writer.submit(_insert_agent(2)),
        store.writer.submit(_insert_agent(1)),  # duplicate key
        store.writer.submit(_insert_agent(3)),
        return_exceptions=True,
    )
    assert outcomes[0] == 2 and outcomes[2] == 3
    assert isinstance(outcomes[1], Exception)
    ids = await store.read(lambda c: sorted(c.scalars(select(agents.c.id))))
    assert ids == ["a1", "a2", "a3"]


async def test_full_queue_answers_overloaded(sqlite_url: str) -> None:
    instance = Store(sqlite_url)
    instance.migrate()
    writer = BatchWriter(instance.engine, max_queue=2)
    writer.start()
    started, release = threading.Event(), threading.Event()

    def blocking(conn: Connection) -> str:
        started.set()
        release.wait(5)
        return "first"

    first = asyncio.ensure_future(writer.submit(blocking))
    await asyncio.to_thread(started.wait, 5)
    queued = [asyncio.ensure_future(writer.submit(_insert_agent(n))) for n in range(2)]
    await asyncio.sleep(0)
    with pytest.raises(Overloaded) as refused:
        await writer.submit(_insert_agent(9))
    assert refused.value.retry_after >= 1
    release.set()
    assert await first == "first"
    assert await asyncio.gather(*queued) == [0, 1]
    await writer.stop()
    instance.engine.dispose()


async def test_stop_finishes_accepted_writes(sqlite_url: str) -> None:
    instance = Store(sqlite_url)
    instance.migrate()
    await instance.start()
    futures = [asyncio.ensure_future(instance.writer.submit(_insert_agent(n))) for n in range(50)]
    await asyncio.sleep(0)
    await instance.close()
    assert all(f.done() and not f.exception() for f in futures)
    reopened = Store(sqlite_url)
    assert len(await reopened.read(lambda c: c.execute(select(agents.c.id)).all())) == 50
    reopened.engine.dispose()


def test_unreachable_database_is_one_clear_error() -> None:
    with pytest.raises(StoreError, match=r"cannot open database .*5999"):
        Store("postgresql://postgres@127.0.0.1:5999/nothing").check()


def test_sqlite_runs_in_wal_mode(sqlite_url: str) -> None:
    instance = Store(sqlite_url)
    instance.migrate()
    with instance.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    instance.engine.dispose()
