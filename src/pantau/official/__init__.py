"""Official status pages: what vendors admit, when they admit it, and planned maintenance.

Adapters (`statuspage`, `incidentio`, `feed`) turn pages into the normalised model
(`model`); `poller` fetches them with conditional requests and keeps the last known
state; `lag` measures how late a vendor posts after pantau's own alarm.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pantau.runtime import Runtime


async def run(ctx: Runtime) -> None:
    """The background job (see `job`). Imported late: the store imports this package's
    modules, and the job imports the store."""
    from pantau.official.job import run as run_job

    await run_job(ctx)
