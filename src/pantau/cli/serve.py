"""`pantau serve`: the server, on SQLite or PostgreSQL."""

from __future__ import annotations

import gc
import logging
import os
from pathlib import Path

import typer
import uvicorn
from fastapi import FastAPI
from redis.asyncio import Redis
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

from pantau import detect, official, probes
from pantau.catalog import Catalog, CatalogError
from pantau.clock import Clock, SystemClock
from pantau.incidents import job as incidents_job
from pantau.runtime import Job, Runtime
from pantau.settings import Settings, SettingsError, load_settings
from pantau.store import Store, StoreError
from pantau.web.app import create_app

# The server's background jobs: probes, official pages, the crowd detector's minutes,
# and the fusion of all three into incidents.
JOBS: tuple[Job, ...] = (probes.run, official.run, detect.run, incidents_job.run)
LOG_FORMAT = "%(asctime)s %(levelname)s %(message)s"
WORKER_LOG_FORMAT = "%(asctime)s %(levelname)s [%(process)d] %(message)s"
WORKER_START_SECONDS = 30
log = logging.getLogger(__name__)


def build_runtime(settings: Settings, clock: Clock | None = None, *,
                  migrate: bool = True) -> Runtime:
    """Load the catalog, open (and unless told not to, migrate) the store: everything
    that can fail early."""
    from pantau.cli import CliError

    try:
        catalog = Catalog.load(settings.catalog) if settings.catalog else Catalog.default()
    except CatalogError as exc:
        raise CliError(str(exc)) from None
    store = Store(settings.database, max_queue=settings.report_queue_size)
    if migrate:
        try:
            store.migrate()
        except StoreError as exc:
            raise CliError(str(exc)) from None
    redis = Redis.from_url(settings.redis) if settings.redis else None
    return Runtime(settings=settings, store=store, catalog=catalog,
                   clock=clock or SystemClock(), redis=redis)


def settings_from_cli(**overrides: object) -> Settings:
    from pantau.cli import CliError

    try:
        return load_settings(**overrides)
    except SettingsError as exc:
        raise CliError(str(exc), code=2) from None


def run_server(app: FastAPI | str, host: str, port: int, workers: int = 1) -> None:
    """Serve `app`, or the app made by the function this import string names (`module:name`,
    called in each worker process where there are several), until told to stop."""
    # uvloop and httptools (uvicorn[standard]) named, not left to "auto". No access log
    # (it was filtered out at "warning" anyway, after being formatted per request). No
    # proxy headers: uvicorn would believe X-Forwarded-For from 127.0.0.1 whatever
    # PANTAU_TRUSTED_PROXIES says; the report path reads it itself, trusted peers only.
    # A worker has WORKER_START_SECONDS to answer the supervisor's first health check:
    # each imports pantau and opens its store first, 3 s on an idle machine, and at the
    # default 5 s busy machines had workers killed while they started.
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", loop="uvloop",
                            http="httptools", access_log=False, proxy_headers=False,
                            lifespan="on", timeout_graceful_shutdown=5, workers=workers,
                            factory=isinstance(app, str),
                            timeout_worker_healthcheck=WORKER_START_SECONDS)
    if workers == 1:
        tune_collector()
        uvicorn.Server(config).run()
        return
    # uvicorn's supervisor: the workers share one listening socket, and one that dies
    # while serving is started again; one that cannot start stops them all.
    supervisor = Multiprocess(config, sockets=[config.bind_socket()])
    supervisor.run()
    if any(process.exitcode == STARTUP_FAILURE for process in supervisor.processes):
        raise SystemExit(STARTUP_FAILURE)


def tune_collector() -> None:
    """Garbage collection for a server process, once its app is loaded."""
    # Everything loaded so far (modules, catalog, templates) lives as long as the process:
    # keep it out of the collector's generations, so a full collection during a surge of
    # reports does not walk it again (pauses seen as p99 spikes in bench/ingest.py).
    gc.collect()
    gc.freeze()
    # Full collections walk every object alive, and a surge keeps hundreds of thousands
    # (the crowd's dedupe and rate-limit state): at the default (every 10th middle
    # collection) a report's CPU grew from 98 to 149 us over 50 s of load; at every
    # 1000th it stayed near 100 us (bench/ingest.py). Young garbage is still collected.
    gc.set_threshold(700, 10, 1000)


def serve_runtime(runtime: Runtime) -> None:
    """Serve until told to stop: in this process, or in `settings.workers` processes that
    each build their app from the environment (where the settings must all be), the
    store migrated here once."""
    settings = runtime.settings
    if settings.workers == 1:
        jobs = JOBS if settings.monitor else ()
        run_server(create_app(runtime, jobs), settings.host, settings.port)
        return
    runtime.store.engine.dispose()
    run_server(f"{__name__}:worker_app", settings.host, settings.port, settings.workers)


def worker_app() -> FastAPI:
    """The app of one `pantau serve --workers` process, from the settings its parent
    checked and left in the environment; the parent migrated the store."""
    logging.basicConfig(level=logging.INFO, format=WORKER_LOG_FORMAT)
    from pantau.cli import CliError

    try:
        settings = load_settings()
        runtime = build_runtime(settings, migrate=False)
    except (SettingsError, CliError) as exc:
        # What changed since the parent checked it (a catalog file edited meanwhile) would
        # fail every restart alike: this exit status makes the supervisor stop.
        log.error("pantau worker cannot start: %s", exc)
        raise SystemExit(STARTUP_FAILURE) from None
    app = create_app(runtime, JOBS if settings.monitor else ())
    tune_collector()
    return app


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        host: str | None = typer.Option(None, help="Address to bind (env PANTAU_HOST)."),
        port: int | None = typer.Option(None, help="Port to bind (env PANTAU_PORT)."),
        database: str | None = typer.Option(
            None, help="sqlite:///PATH or postgresql://… (env PANTAU_DATABASE)."),
        catalog: Path | None = typer.Option(
            None, help="Catalog YAML file (env PANTAU_CATALOG)."),
        redis: str | None = typer.Option(None, help="redis://… (env PANTAU_REDIS)."),
        workers: int | None = typer.Option(
            None, help="Processes, one per core; more than 1 needs --redis (env PANTAU_WORKERS)."),
    ) -> None:
        """Run the pantau server: web pages, JSON API and monitoring."""
        given = {"host": host, "port": port, "database": database, "catalog": catalog,
                 "redis": redis, "workers": workers}
        settings = settings_from_cli(**given)
        logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
        runtime = build_runtime(settings)
        processes = f", {settings.workers} processes" if settings.workers > 1 else ""
        typer.echo(f"pantau serving {len(runtime.catalog.services)} services on "
                   f"http://{settings.host}:{settings.port} ({runtime.store.safe_url}{processes})")
        # Workers read their settings as this process did, options included (in place of
        # a PANTAU_*_FILE, which load_settings would otherwise prefer).
        for name, value in given.items():
            if value is not None:
                os.environ[f"PANTAU_{name.upper()}"] = str(value)
                os.environ.pop(f"PANTAU_{name.upper()}_FILE", None)
        serve_runtime(runtime)
