"""`pantau demo`: the outage lab, the server and a scenario replay, in one process.

The lab starts on loopback, the server watches the lab's services (its catalog,
its DNS, its CA) on a throw-away SQLite database, and the scenario — by default
the 23 January 2025 ChatGPT outage — plays at human speed: its clock runs
`--speed` times faster than the wall clock, and the server lives on the same
clock, so its minutes are the scenario's minutes. Ctrl-C stops everything.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import tempfile
from pathlib import Path

import typer
import uvicorn
import yaml
from rich.console import Console

from pantau.cli.lab import stop_like_ctrl_c
from pantau.clock import ScaledClock
from pantau.lab import Lab, Scenario, ScenarioError, load_scenario
from pantau.lab.runner import run_scenario
from pantau.lab.scenario import Event
from pantau.runtime import Runtime
from pantau.signals import Text

console = Console()


def _say(text: Text) -> None:
    console.print(f"{text.en}\n[dim]{text.id}[/dim]")


def _event(scenario: Scenario, event: Event) -> None:
    at = scenario.at(event.at)
    who = ", ".join(event.targets) or event.vantage or ""
    value = getattr(event, event.action)
    shown = value.value if hasattr(value, "value") else (
        getattr(value, "status", None) or getattr(value, "factor", None) or value)
    note = f" — {event.note}" if event.note else ""
    console.print(f"[cyan]{at:%H:%M} UTC[/cyan] {who}: {event.action} → {shown}{note}")


def _bind(port: int) -> socket.socket:
    from pantau.cli import CliError

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit this: without it each response waits for the
    # client's delayed ACK (about 40 ms).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as exc:
        sock.close()
        raise CliError(f"port {port}: {exc.strerror}; choose another with --port", 1) from None
    return sock


HISTORY_DAYS = 1
"""Enough for the page's 24-hour chart and a learnt level (the outage's incident opens at
11:35, as with two days or a week). Each day of it is scored minute by minute before the
server answers: two days took 5.5 s on a slow machine, and the demo opened after 11 s;
with one it opens after 6-7 s there."""


async def _seed_history(runtime: Runtime, scenario: Scenario) -> None:
    """Give the fresh database the quiet days before the scenario, as pantau would have seen."""
    from pantau.detect.job import new_scorer
    from pantau.lab.history import history_minutes, working_minutes
    from pantau.store.incidents import incident_store
    from pantau.store.reports import reports_store

    scorer = new_scorer(runtime.settings)
    minutes = await asyncio.to_thread(history_minutes, scenario, HISTORY_DAYS, scorer)
    crowd = reports_store(runtime.store)
    await crowd.start()
    await crowd.save_crowd_minutes(minutes)
    fused = incident_store(runtime.store)
    for service, rows in working_minutes(minutes).items():
        await fused.add_service_minutes(service, rows)


async def run_demo(scenario: Scenario, speed: float, sock: socket.socket, tmp: Path) -> None:
    from pantau.cli.serve import JOBS, build_runtime, settings_from_cli
    from pantau.web.app import create_app

    clock = ScaledClock(scenario.start, speed)
    async with Lab.start(scenario, clock=clock) as lab:
        catalog = tmp / "lab-catalog.yaml"
        catalog.write_text(yaml.safe_dump(lab.catalog_data(), sort_keys=False), "utf-8")
        port = sock.getsockname()[1]
        settings = settings_from_cli(
            database=f"sqlite:///{tmp}/demo.db", port=port, catalog=catalog,
            allow_private_targets=True, ca_file=lab.ca_file,
            resolvers=f"{lab.dns_address[0]}:{lab.dns_address[1]}",
            trusted_proxies="127.0.0.1/32",
        )
        runtime = build_runtime(settings, clock)
        await _seed_history(runtime, scenario)
        config = uvicorn.Config(create_app(runtime, JOBS), log_level="warning", lifespan="on",
                                timeout_graceful_shutdown=2)
        server = uvicorn.Server(config)
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        # uvicorn only exposes a `started` flag, no event to wait on.
        while not server.started and not serving.done():  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        url = f"http://127.0.0.1:{port}/"
        _say(Text(f"pantau demo: open {url}  — {scenario.name} at {speed:g}× "
                  f"(about {scenario.duration.total_seconds() / speed / 60:.0f} min). "
                  "Ctrl-C to stop.",
                  f"demo pantau: buka {url}  — {scenario.name} dengan kecepatan {speed:g}× "
                  f"(sekitar {scenario.duration.total_seconds() / speed / 60:.0f} menit). "
                  "Ctrl-C untuk berhenti."))

        async def replay() -> None:
            stats = await run_scenario(scenario, lab, clock, url.rstrip("/"),
                                       on_event=lambda e: _event(scenario, e))
            sent = stats.sent if stats else 0
            _say(Text(f"Scenario finished ({sent} simulated reports). The server keeps running.",
                      f"Skenario selesai ({sent} laporan simulasi). Server tetap berjalan."))

        replaying = asyncio.create_task(replay())
        try:
            await serving
        finally:
            replaying.cancel()
            await asyncio.gather(replaying, return_exceptions=True)


def register(app: typer.Typer) -> None:
    @app.command()
    def demo(
        port: int = typer.Option(8000, help="Port for the web pages."),
        speed: float | None = typer.Option(
            None, help="Scenario seconds per wall-clock second (default: the scenario's)."),
        scenario: str = typer.Option("chatgpt-2025-01-23", help="Scenario name or YAML file."),
    ) -> None:
        """Replay a real outage in the lab, watched by pantau, at human speed."""
        from pantau.cli import CliError

        try:
            chosen = load_scenario(scenario)
        except ScenarioError as exc:
            raise CliError(str(exc), code=2) from None
        pace = speed if speed is not None else chosen.speed
        if pace <= 0:
            raise CliError("--speed must be positive", code=2)
        sock = _bind(port)
        signal.signal(signal.SIGTERM, stop_like_ctrl_c)
        try:
            with tempfile.TemporaryDirectory(prefix="pantau-demo-") as tmp:
                asyncio.run(run_demo(chosen, pace, sock, Path(tmp)))
        except KeyboardInterrupt:
            pass
        finally:
            sock.close()
        _say(Text("pantau demo stopped.", "demo pantau berhenti."))
