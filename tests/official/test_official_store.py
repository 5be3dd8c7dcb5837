"""The official store methods on real SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pantau.official import errors
from pantau.official.model import Incident, PageKind, PageSnapshot, Update
from pantau.signals import OfficialPageState
from pantau.store import Store
from pantau.store.official import OfficialStoreMixin
from pantau.store.schema.official import (
    official_incidents,
    official_page_errors,
    official_pages,
    official_updates,
)

T = datetime(2025, 1, 23, 12, 0, tzinfo=UTC)
URL = "https://status.example/"


class _Store(Store, OfficialStoreMixin):
    """`Store` with the official methods, whether or not the lead has listed them yet."""


@pytest.fixture(params=["sqlite", "postgresql"])
async def ostore(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[_Store]:
    if request.param == "sqlite":
        instance = _Store(f"sqlite:///{tmp_path}/pantau.db")
        instance.migrate()
    else:
        instance = _Store(request.getfixturevalue("postgres_url"))
        # The session database is shared by every test area: clear only these tables.
        with instance.engine.begin() as conn:
            for table in (
                official_pages,
                official_page_errors,
                official_incidents,
                official_updates,
            ):
                conn.execute(table.delete())
    await instance.start()
    yield instance
    await instance.close()


def _incident(*updates: tuple[str, str, int]) -> Incident:
    ups = tuple(Update(k, st, f"{st} body", T + timedelta(minutes=m)) for k, st, m in updates)
    return Incident(
        id="inc1",
        title="ChatGPT down",
        status=ups[-1].status,
        created_at=ups[0].at,
        updated_at=ups[-1].at,
        updates=ups,
        components=("ChatGPT",),
        impact=OfficialPageState.MAJOR_OUTAGE,
    )


def _snap(*incidents: Incident, at: datetime = T) -> PageSnapshot:
    return PageSnapshot(
        PageKind.STATUSPAGE,
        URL,
        at,
        OfficialPageState.MAJOR_OUTAGE,
        name="Example",
        incidents=incidents,
    )


async def test_archive_keeps_first_sighting_and_every_update(ostore: _Store) -> None:
    first = await ostore.official_record_poll(
        URL, PageKind.STATUSPAGE, T, _snap(_incident(("u1", "investigating", 10)))
    )
    assert (first.incidents, first.updates) == (1, 1)
    again = await ostore.official_record_poll(
        URL,
        PageKind.STATUSPAGE,
        T + timedelta(minutes=1),
        _snap(_incident(("u1", "investigating", 10))),
    )
    assert (again.incidents, again.updates) == (0, 0)
    later = await ostore.official_record_poll(
        URL,
        PageKind.STATUSPAGE,
        T + timedelta(minutes=30),
        _snap(_incident(("u1", "investigating", 10), ("u2", "resolved", 25))),
    )
    assert (later.incidents, later.updates) == (0, 1)
    (archived,) = await ostore.official_archive(URL)
    assert archived["status"] == "resolved"
    assert archived["first_seen_at"] == T
    assert [u["key"] for u in archived["updates"]] == ["u1", "u2"]
    # The page dropping the incident (pages keep only their last 50) loses nothing here.
    await ostore.official_record_poll(URL, PageKind.STATUSPAGE, T + timedelta(hours=1), _snap())
    assert len(await ostore.official_archive(URL)) == 1
    posts = await ostore.official_first_posts(URL, T, T + timedelta(hours=2))
    assert posts == [T + timedelta(minutes=10)]


async def test_failed_poll_keeps_state_and_logs_error(ostore: _Store) -> None:
    snap = _snap(_incident(("u1", "investigating", 10)))
    await ostore.official_record_poll(URL, PageKind.STATUSPAGE, T, snap)
    err = errors.http_status(URL + "api/v2/summary.json", 503)
    stale = replace(snap, stale=True, error=err.message)
    await ostore.official_record_poll(
        URL, PageKind.STATUSPAGE, T + timedelta(minutes=5), stale, error=err, failures=1
    )
    record = await ostore.official_page(URL)
    assert record is not None and record.snapshot is not None
    assert record.snapshot.stale and record.snapshot.state is OfficialPageState.MAJOR_OUTAGE
    assert record.snapshot.incidents[0].updates[0].key == "u1"
    assert record.last_success_at == T and record.failures == 1
    assert record.last_error is not None and "HTTP 503" in record.last_error
    assert record.last_error_id is not None and "menjawab HTTP 503" in record.last_error_id
    (logged,) = await ostore.official_errors(URL)
    assert (logged.kind, logged.status, logged.at) == ("http", 503, T + timedelta(minutes=5))
    assert await ostore.official_page("https://other.example/") is None


async def test_a_long_history_is_archived_whole_on_the_first_read(ostore: _Store) -> None:
    # A first read of a busy page: more updates than one SQL statement may bind.
    updates = [(f"u{k}", "monitoring", k) for k in range(14000)]
    first = await ostore.official_record_poll(
        URL, PageKind.STATUSPAGE, T, _snap(_incident(*updates, ("end", "resolved", 6001)))
    )
    assert (first.incidents, first.updates) == (1, 14001)
    (archived,) = await ostore.official_archive(URL)
    assert len(archived["updates"]) == 14001
