"""`GET /api/v1/services/{slug}/crowd`: the stored minutes against the expected level."""

from __future__ import annotations

from datetime import timedelta

from pantau.clock import FrozenClock
from pantau.signals import CrowdMinute, CrowdState
from pantau.store import Store
from tests.crowd.crowd_fixtures import T0, client, crowd_store, make_app

__all__ = ["crowd_store"]


def _minute(k: int, reporters: int, state: CrowdState = CrowdState.NORMAL) -> CrowdMinute:
    return CrowdMinute(
        service="chatgpt", minute=T0 + timedelta(minutes=k), reporters=reporters,
        networks=reporters, expected=1.5, score=0.0 if reporters < 10 else 9.0, state=state,
        alarm=state is CrowdState.DETECTED and k == 8,
        categories={"website": reporters} if reporters else {},
        regions={"ID-JK": reporters} if reporters else {},
        texts={"502 bad gateway": reporters} if reporters else {},
    )


async def test_minutes_expected_level_and_totals(crowd_store: Store) -> None:
    rows = [_minute(k, 1) for k in range(8)]
    rows += [_minute(k, 40, CrowdState.DETECTED) for k in (8, 9)]
    other = CrowdMinute(
        service="gmail", minute=T0, reporters=3, networks=3, expected=1, score=0,
        state=CrowdState.NORMAL, alarm=False, categories={}, regions={}, texts={},
    )
    await crowd_store.save_crowd_minutes([*rows, other])
    app = make_app(crowd_store, FrozenClock(T0 + timedelta(minutes=10, seconds=30)))
    async with client(app) as c:
        body = (await c.get("/api/v1/services/chatgpt/crowd", params={"minutes": 5})).json()
        assert [m["minute"][11:16] for m in body["minutes"]] == [
            "11:05", "11:06", "11:07", "11:08", "11:09"
        ]
        assert body["reporters"] == 83 and body["expected"] == 7.5
        assert body["state"] == "detected" and body["alarms"] == ["2025-01-23T11:08:00+00:00"]
        assert body["texts"] == {"502 bad gateway": 83} and body["regions"] == {"ID-JK": 83}
        assert body["minutes"][-1] == {
            "minute": "2025-01-23T11:09:00+00:00", "reporters": 40, "networks": 40,
            "expected": 1.5, "score": 9.0, "state": "detected", "alarm": False,
            "categories": {"website": 40}, "regions": {"ID-JK": 40},
            "texts": {"502 bad gateway": 40},
        }
        whole = (await c.get("/api/v1/services/chatgpt/crowd", params={"minutes": 60})).json()
        assert len(whole["minutes"]) == 10  # gmail's minute is not chatgpt's
        for bad in ("0", "1441", "many"):
            answer = await c.get("/api/v1/services/chatgpt/crowd", params={"minutes": bad})
            assert answer.status_code == 422 and "minutes" in answer.json()["detail"]
        missing = await c.get("/api/v1/services/nope/crowd")
        assert missing.status_code == 404
