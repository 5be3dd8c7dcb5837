from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pantau.probes.debounce import MonitorState, MonitorStatus, Thresholds, advance
from pantau.signals import Layer, ProbeVerdict
from pantau.store import Store

T0 = datetime(2025, 1, 23, 12, 0, tzinfo=UTC)


def verdict(i: int, ok: bool, *, reliable: bool = True) -> ProbeVerdict:
    return ProbeVerdict(
        service="chatgpt", monitor="https://chatgpt.pantau.test/", vantage="server",
        at=T0 + timedelta(seconds=30 * i), ok=ok,
        layer=Layer.NONE if ok else Layer.ORIGIN, cause="ok" if ok else "bad_gateway",
        cdn="cloudflare", status=200 if ok else 502, total_ms=12.5,
        evidence={"status": 200 if ok else 502, "timings": {"dns_ms": 1.0}},
        reliable=reliable,
    )


async def test_results_and_states_round_trip(store: Store) -> None:
    state: MonitorState | None = None
    thresholds = Thresholds(failures=2, successes=2)
    history = [verdict(0, True), verdict(1, True), verdict(2, False), verdict(3, False)]
    for v in history:
        state = advance(state, v, thresholds)
        await store.probe_record([v], [state])
    read = await store.probe_verdicts(T0)
    assert read == history
    (stored,) = await store.monitor_states("chatgpt")
    assert stored == state
    assert stored.state is MonitorStatus.DOWN and stored.since == history[3].at
    assert await store.probe_verdicts(T0 + timedelta(seconds=61), service="chatgpt") == history[3:]
    assert await store.probe_prune(T0 + timedelta(seconds=31)) == 2
    assert len(await store.probe_verdicts(T0)) == 2
