"""The crowd store mixin on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from pantau.signals import CrowdMinute, CrowdState
from pantau.store import Store
from pantau.store.report_insert import NewReport
from tests.crowd.crowd_fixtures import T0, crowd_store

__all__ = ["crowd_store"]


def _report(i: int, at_minutes: float, service: str = "chatgpt", counted: bool = True) -> NewReport:
    return NewReport(
        id=f"{i:032x}",
        service=service,
        at=T0 + timedelta(minutes=at_minutes),
        reporter=f"r{i}",
        network=f"n{i % 7}",
        category="website",
        region="ID-JK",
        text="Error 502",
        text_norm="error 502",
        counted=counted,
    )


async def test_reports_round_trip_and_purge(crowd_store: Store) -> None:
    ids = [await crowd_store.add_report(_report(i, i * 0.5)) for i in range(6)]
    assert ids == [f"{i:032x}" for i in range(6)]
    await crowd_store.add_report(_report(99, 1, service="gmail", counted=False))
    assert await crowd_store.report_count() == 7
    assert await crowd_store.report_count("gmail") == 1
    rows = await crowd_store.report_rows(T0 + timedelta(minutes=1), T0 + timedelta(minutes=2))
    assert [r.service for r in rows] == ["chatgpt", "gmail", "chatgpt"]
    assert rows[0].at == T0 + timedelta(minutes=1) and rows[0].at.tzinfo is not None
    assert not rows[1].counted
    assert await crowd_store.purge_reports(T0 + timedelta(minutes=2)) == 5
    assert await crowd_store.report_count() == 2


async def test_crowd_minutes_upsert_and_latest(crowd_store: Store) -> None:
    def minute(service: str, m: int, reporters: int) -> CrowdMinute:
        return CrowdMinute(
            service=service,
            minute=T0 + timedelta(minutes=m),
            reporters=reporters,
            networks=reporters,
            expected=1.5,
            score=0.1,
            state=CrowdState.NORMAL,
            categories={"website": reporters},
            texts={"error 502": 1},
        )

    await crowd_store.save_crowd_minutes([minute("chatgpt", 0, 1), minute("gmail", 0, 2)])
    await crowd_store.save_crowd_minutes([minute("chatgpt", 1, 3), minute("chatgpt", 0, 9)])
    rows = await crowd_store.crowd_minutes(T0, service="chatgpt")
    assert [(r.minute, r.reporters) for r in rows] == [(T0, 9), (T0 + timedelta(minutes=1), 3)]
    assert rows[0].categories == {"website": 9} and rows[0].state is CrowdState.NORMAL
    latest = await crowd_store.latest_crowd(T0 + timedelta(minutes=5), since=T0)
    assert {k: v.reporters for k, v in latest.items()} == {"chatgpt": 3, "gmail": 2}
    assert (
        await crowd_store.latest_crowd(T0 + timedelta(minutes=5), T0 + timedelta(minutes=2)) == {}
    )


async def test_a_surge_larger_than_one_statement_is_stored_whole(crowd_store: Store) -> None:
    # 1,234 reports waiting together: the batch insert splits them over statements of
    # at most 500 rows, and every caller hears its own id.
    reports = [_report(i, i / 1000) for i in range(1234)]
    ids = await asyncio.gather(*(crowd_store.add_report(r) for r in reports))
    assert ids == [r.id for r in reports]
    assert await crowd_store.report_count() == 1234
    rows = await crowd_store.report_rows(T0, T0 + timedelta(minutes=2))
    assert len(rows) == 1234 and rows[-1].at == reports[-1].at


async def test_a_day_of_minutes_for_every_service_is_saved_at_once(crowd_store: Store) -> None:
    # After a long stop the detector job catches up a whole day for every service in one
    # call: far more values than one SQL statement may bind on SQLite.
    services = [f"s{i}" for i in range(35)]
    minutes = [
        CrowdMinute(service=s, minute=T0 + timedelta(minutes=k), reporters=k % 3, networks=1,
                    expected=1.0, score=0.0, state=CrowdState.NORMAL, alarm=False,
                    categories={}, regions={}, texts={})
        for k in range(1440) for s in services
    ]
    await crowd_store.save_crowd_minutes(minutes)
    stored = await crowd_store.crowd_minutes(T0, service="s7")
    assert len(stored) == 1440 and [m.reporters for m in stored[:4]] == [0, 1, 2, 0]
