"""`pantau.probes.run(ctx)`: the catalog's endpoints probed into the store, end to end."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from pathlib import Path

from pantau.clock import ScaledClock
from pantau.lab.lab import Lab
from pantau.lab.modes import OriginMode
from pantau.probes import run
from pantau.probes.debounce import MonitorStatus
from pantau.probes.job import monitors_from_catalog
from pantau.runtime import Runtime
from pantau.settings import Settings
from pantau.signals import Layer
from pantau.store import Store

T0 = datetime(2025, 1, 23, 12, 0, tzinfo=UTC)


async def test_run_probes_every_catalog_endpoint_into_the_store(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/job.db")
    store.migrate()
    await store.start()
    try:
        async with Lab.start(read_timeout=0.3, connect_timeout=0.2) as lab:
            await lab.set_origin("site-fastly", OriginMode.HTTP_502)
            host, port = lab.dns_address
            settings = Settings(allow_private_targets=True, resolvers=[f"{host}:{port}"],
                                ca_file=lab.ca_file, vantage="test-vantage")
            catalog = lab.catalog()
            # 60 s intervals at 60x: every monitor runs about once a second.
            ctx = Runtime(settings=settings, store=store, catalog=catalog,
                          clock=ScaledClock(T0, speed=60))
            task = asyncio.create_task(run(ctx))
            await asyncio.sleep(3.5)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        verdicts = await store.probe_verdicts(T0)
        states = {s.monitor: s for s in await store.monitor_states()}
    finally:
        await store.close()

    monitors = monitors_from_catalog(catalog)
    assert {v.monitor for v in verdicts} == {m.id for m in monitors}
    assert {v.vantage for v in verdicts} == {"test-vantage"}
    for v in verdicts:
        expected = Layer.ORIGIN if v.service == "site-fastly" else Layer.NONE
        assert v.layer is expected, v
    fastly = [s for s in states.values() if s.service == "site-fastly"]
    assert fastly and all(s.state is MonitorStatus.DOWN for s in fastly)
    assert all(s.state is not MonitorStatus.DOWN for s in states.values() if s not in fastly)
