from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pantau.probes.debounce import MonitorState, MonitorStatus, Thresholds, advance
from pantau.signals import Layer, ProbeVerdict
from pantau.store import Store
from pantau.store.probes import ProbesStoreMixin

T0 = datetime(2025, 1, 23, 12, 0, tzinfo=UTC)


class ProbeStore(Store, ProbesStoreMixin):
    """Store with the probe methods, whether or not the lead has listed the mixin yet."""


@pytest.fixture(params=["sqlite", "postgresql"])
async def pstore(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ProbeStore]:
    if request.param == "sqlite":
        instance = ProbeStore(f"sqlite:///{tmp_path}/p.db")
        instance.migrate()
    else:
        instance = ProbeStore(request.getfixturevalue("postgres_url"))
        from tests.conftest import _empty_tables

        _empty_tables(instance)
    await instance.start()
    yield instance
    await instance.close()


def verdict(i: int, ok: bool, *, reliable: bool = True) -> ProbeVerdict:
    return ProbeVerdict(
        service="chatgpt", monitor="https://chatgpt.pantau.test/", vantage="server",
        at=T0 + timedelta(seconds=30 * i), ok=ok,
        layer=Layer.NONE if ok else Layer.ORIGIN, cause="ok" if ok else "bad_gateway",
        cdn="cloudflare", status=200 if ok else 502, total_ms=12.5,
        evidence={"status": 200 if ok else 502, "timings": {"dns_ms": 1.0}},
        reliable=reliable,
    )


async def test_results_and_states_round_trip(pstore: ProbeStore) -> None:
    state: MonitorState | None = None
    thresholds = Thresholds(failures=2, successes=2)
    history = [verdict(0, True), verdict(1, True), verdict(2, False), verdict(3, False)]
    for v in history:
        state = advance(state, v, thresholds)
        await pstore.probe_record([v], [state])
    read = await pstore.probe_verdicts(T0)
    assert read == history
    (stored,) = await pstore.monitor_states("chatgpt")
    assert stored == state
    assert stored.state is MonitorStatus.DOWN and stored.since == history[3].at
    assert await pstore.probe_verdicts(T0 + timedelta(seconds=61), service="chatgpt") == history[3:]
    assert await pstore.probe_prune(T0 + timedelta(seconds=31)) == 2
    assert len(await pstore.probe_verdicts(T0)) == 2
