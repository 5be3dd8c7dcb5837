"""The web application: JSON API, HTML pages, and the server's background jobs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from importlib import resources

from fastapi import FastAPI
from fastapi.routing import APIRouter
from fastapi.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from pantau import __version__
from pantau.coordination import run_exclusively
from pantau.runtime import Job, Runtime
from pantau.web import api, crowd, errors, official, pages_incidents, pages_service, reports, status
from pantau.web.fast_reports import FastReports
from pantau.web.limits import BodySizeLimit

log = logging.getLogger(__name__)

# Domain routers, in the order their paths should be matched.
ROUTERS: tuple[APIRouter, ...] = (
    api.router, status.router, reports.router, crowd.router, official.router,
    pages_service.router,
    pages_incidents.router, pages_service.home_router,
)


async def _run_job(job: Job, runtime: Runtime) -> None:
    name = getattr(job, "__module__", repr(job))
    while True:
        try:
            await run_exclusively(name, job, runtime, runtime.redis)
            return
        except asyncio.CancelledError:
            raise
        except Exception:  # a job must never take the server down; it restarts
            log.exception("background job %s failed; restarting in 5 s", name)
            await asyncio.sleep(5)


class PantauApp(FastAPI):
    """FastAPI, with JSON crowd reports answered before any of its layers (issue 5)."""

    fast_reports: FastReports

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not await self.fast_reports.take(scope, receive, send):
            await super().__call__(scope, receive, send)


def create_app(runtime: Runtime, jobs: Sequence[Job] = ()) -> FastAPI:
    """Build the app. `jobs` run in the background while the app is up."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.store.start()
        await runtime.store.sync_catalog(runtime.catalog, runtime.clock.now())
        await reports.open_endpoint(app.state)
        runtime.reports_since = runtime.clock.now()
        tasks = [asyncio.create_task(_run_job(job, runtime)) for job in jobs]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            reports.close(app.state)
            await runtime.store.close()
            if runtime.redis is not None:
                await runtime.redis.aclose()

    app = PantauApp(
        title="pantau",
        version=__version__,
        description="Is it down for everyone, or just me? Crowd reports, probes and "
        "official status pages fused into one explained verdict.",
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    app.state.settings = runtime.settings
    app.state.store = runtime.store
    app.state.catalog = runtime.catalog
    app.state.clock = runtime.clock
    app.add_middleware(BodySizeLimit)
    app.fast_reports = FastReports(app.state)
    static = resources.files("pantau").joinpath("web/static")
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    for router in ROUTERS:
        app.include_router(router)

    errors.install(app)
    return app
