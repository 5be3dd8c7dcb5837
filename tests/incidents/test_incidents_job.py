"""The minute job reads what the probe, crowd and official stages stored, and fuses it."""

from __future__ import annotations

import asyncio
from typing import Any

from incident_app import runtime
from incident_factories import cf_502, crowd, minute

from pantau.clock import FrozenClock
from pantau.incidents.engine import FusionEngine
from pantau.incidents.job import fuse_once, run
from pantau.signals import CrowdState, Layer, ServiceState


async def test_fuse_once_reads_the_other_stages(sqlite_url: str) -> None:
    clock = FrozenClock(minute(3))
    rt = runtime(sqlite_url, clock)
    store: Any = rt.store
    await store.start()
    try:
        await store.probe_record(cf_502(minute(2)) + cf_502(minute(3)))
        await store.save_crowd_minutes([
            crowd(minute(n), CrowdState.DETECTED, 60, alarm=n == 2,
                  categories={"website": 50, "app": 10}) for n in (1, 2, 3)])
        engine = FusionEngine()
        first = await fuse_once(rt, engine, minute(3))
        a = first.assessments["chatgpt"]
        assert (a.state, a.layer) == (ServiceState.OUTAGE, Layer.ORIGIN)
        assert a.crowd_reporters == 60 and a.crowd_alarm is False
        assert first.assessments["whatsapp"].state is ServiceState.UNKNOWN
        assert "chatgpt" not in first.incidents  # one bad minute, no alarm this minute
        second = await fuse_once(rt, engine, minute(4))
        assert second.incidents["chatgpt"].started_at == minute(3)
        stored = await store.service_state("chatgpt")
        assert stored is not None and stored[1] is not None
        assert stored[1].id == "chatgpt-20250123-1133"

        # The job loop resumes the open incident and keeps fusing each minute.
        task = asyncio.create_task(run(rt))
        async with asyncio.timeout(10):
            while (await store.service_state("chatgpt"))[0].at <= minute(4):  # noqa: ASYNC110
                await asyncio.sleep(0.01)  # the job writes through the store, not an event
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        assert [i.id for i in await store.open_incidents()] == ["chatgpt-20250123-1133"]
    finally:
        await store.close()
