"""`pantau lab …`: run the outage lab, switch its faults by hand, replay scenarios.

    pantau lab serve [--scenario NAME] [--control-port 8700] [--catalog-out lab.yaml]
    pantau lab set origin chatgpt http502        (also: edge, dns, page)
    pantau lab cut surabaya [--restore]
    pantau lab state
    pantau lab scenarios
    pantau lab run chatgpt-2025-01-23 [--server URL] [--speed 60] [--control URL]
"""

from __future__ import annotations

import asyncio
import json
import signal
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import typer
import yaml
from rich.console import Console
from rich.table import Table

from pantau.clock import ScaledClock
from pantau.lab import Lab, Scenario, ScenarioError, load_scenario, shipped_scenarios
from pantau.lab.control import ControlServer, lab_state
from pantau.lab.crowd import generate_reports
from pantau.lab.modes import DnsMode, EdgeMode, OriginMode, PageMode
from pantau.lab.runner import follow_timeline, run_scenario
from pantau.lab.scenario import Event
from pantau.lab.sender import SendStats, send_reports

DEFAULT_CONTROL = "http://127.0.0.1:8700"
MODES: dict[str, list[str]] = {
    "origin": [m.value for m in OriginMode],
    "edge": [m.value for m in EdgeMode],
    "dns": [m.value for m in DnsMode],
    "page": [m.value for m in PageMode],
}
console = Console()

lab_app = typer.Typer(help="The outage lab: fake services on loopback that fail on demand.",
                      no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(lab_app, name="lab")


def stop_like_ctrl_c(signum: int, frame: object) -> None:
    """SIGTERM (docker stop, systemd) shuts down as cleanly as Ctrl-C does."""
    raise KeyboardInterrupt


def _error(message: str, code: int = 2) -> Exception:
    from pantau.cli import CliError

    return CliError(message, code=code)


def _scenario(name: str) -> Scenario:
    try:
        return load_scenario(name)
    except ScenarioError as exc:
        raise _error(str(exc)) from None


def show_state(state: dict[str, Any]) -> None:
    table = Table(title=f"pantau lab — DNS {state['dns']}, CA {state['ca_file']}")
    for column in ("service", "url", "cdn", "origin", "edge", "dns", "status page"):
        table.add_column(column)
    for slug, s in state["services"].items():
        table.add_row(slug, s["url"], s["cdn"], s["origin"], s["edge"] or "-", s["dns"],
                      f"{s['status_url']} ({s['status_kind']})")
    console.print(table)
    for name, v in state["vantages"].items():
        cut = " [red]CUT OFF[/red]" if v["cut"] else ""
        console.print(f"vantage {name} ({v['region']}): resolver {v['dns']}, "
                      f"canary {v['canary_url']}{cut}")


def _event_line(event: Event) -> None:
    action = event.action
    value = getattr(event, action)
    what = value.value if hasattr(value, "value") else (
        getattr(value, "status", None) or getattr(value, "factor", None) or value)
    who = ", ".join(event.targets) or event.vantage or ""
    note = f" — {event.note}" if event.note else ""
    console.print(f"[dim]+{event.at}[/dim] {who}: {action} → {what}{note}")


def _show_stats(stats: SendStats) -> None:
    console.print(f"crowd: {stats.sent} reports sent, answers {json.dumps(dict(stats.statuses))}, "
                  f"{stats.errors} without answer")


@lab_app.command("serve")
def serve(
    scenario: str | None = typer.Option(None, help="Start with this scenario's services."),
    control_port: int = typer.Option(8700, help="Port of the control API (0: any free port)."),
    catalog_out: Path | None = typer.Option(None, help="Write the lab's catalog YAML here."),
) -> None:
    """Start the lab servers and a control API; Ctrl-C stops everything."""
    chosen = _scenario(scenario) if scenario else None

    async def main() -> None:
        async with Lab.start(chosen) as lab:
            control = ControlServer(lab)
            try:
                await control.start(control_port)
            except OSError as exc:
                raise _error(f"control port {control_port}: {exc.strerror}", 1) from None
            try:
                if catalog_out is not None:
                    text = yaml.safe_dump(lab.catalog_data(), sort_keys=False)
                    await asyncio.to_thread(catalog_out.write_text, text)
                    console.print(f"catalog written to {catalog_out}")
                show_state(lab_state(lab))
                console.print(f"control API on {control.url}  (Ctrl-C to stop)")
                await asyncio.Event().wait()
            finally:
                await control.close()

    signal.signal(signal.SIGTERM, stop_like_ctrl_c)
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        console.print("lab stopped")


def _control(url: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    try:
        response = httpx.request(method, f"{url.rstrip('/')}{path}", json=body, timeout=10)
    except httpx.HTTPError as exc:
        raise _error(f"cannot reach the lab control API at {url}: {exc}", 1) from None
    data = response.json()
    if response.status_code >= 400:
        raise _error(data.get("error", response.text), 1)
    return data


@lab_app.command("set")
def set_mode(
    kind: str = typer.Argument(..., help="origin, edge, dns or page"),
    service: str = typer.Argument(...),
    mode: str = typer.Argument(...),
    control: str = typer.Option(DEFAULT_CONTROL, help="The lab's control API."),
) -> None:
    """Switch one server of a running lab into a mode (`pantau lab set origin chatgpt http502`)."""
    if kind not in MODES:
        raise _error(f"unknown kind {kind!r}; use one of {', '.join(MODES)}")
    if mode not in MODES[kind]:
        raise _error(f"unknown {kind} mode {mode!r}; use one of {', '.join(MODES[kind])}")
    result = _control(control, "POST", f"/services/{service}/{kind}", {"mode": mode})
    console.print(f"{service}: {kind} → {result[kind]}")


@lab_app.command("cut")
def cut(
    vantage: str = typer.Argument(...),
    restore: bool = typer.Option(False, help="Reconnect the vantage point instead."),
    control: str = typer.Option(DEFAULT_CONTROL, help="The lab's control API."),
) -> None:
    """Cut a vantage point (and its users) off the network, or restore it."""
    result = _control(control, "POST", f"/vantages/{vantage}", {"cut": not restore})
    console.print(f"{vantage}: {'cut off' if result['cut'] else 'connected'}")


@lab_app.command("state")
def state(control: str = typer.Option(DEFAULT_CONTROL, help="The lab's control API.")) -> None:
    """Show every lab server's address and mode."""
    show_state(_control(control, "GET", "/state"))


@lab_app.command("scenarios")
def scenarios() -> None:
    """List the shipped scenarios."""
    for name in shipped_scenarios():
        s = load_scenario(name)
        minutes = s.duration.total_seconds() / 60
        console.print(f"[bold]{name}[/bold] ({minutes:.0f} min, speed {s.speed:g}): "
                      f"{s.description.strip()}")


@lab_app.command("run")
def run(
    scenario: str = typer.Argument(..., help="A shipped scenario name or a YAML file."),
    server: str | None = typer.Option(None, help="pantau server to send the crowd to."),
    speed: float | None = typer.Option(None, help="Time scale (default: the scenario's)."),
    control: str | None = typer.Option(
        None, help="Drive a lab started by `pantau lab serve` instead of starting one."),
    seed: int | None = typer.Option(None, help="Crowd seed (default: the scenario's)."),
) -> None:
    """Play a scenario's timeline (and crowd, with --server) at scenario speed."""
    chosen = _scenario(scenario)
    pace = speed or chosen.speed
    if pace <= 0:
        raise _error("--speed must be positive")
    minutes = chosen.duration.total_seconds() / pace / 60
    console.print(f"running {chosen.name} at {pace:g}× (about {minutes:.1f} min)")

    async def main() -> None:
        clock = ScaledClock(chosen.start, pace)
        if control is not None:
            async def apply(offset: timedelta) -> None:
                body = {"scenario": scenario, "offset": offset.total_seconds()}
                await asyncio.to_thread(_control, control, "POST", "/apply", body)

            async with asyncio.TaskGroup() as group:
                group.create_task(follow_timeline(chosen, apply, clock, _event_line))
                crowd = None
                if server is not None:
                    reports = generate_reports(chosen, seed)
                    crowd = group.create_task(send_reports(reports, server, clock))
            if crowd is not None:
                _show_stats(crowd.result())
            return
        async with Lab.start(chosen, clock=clock) as lab:
            show_state(lab_state(lab))
            stats = await run_scenario(chosen, lab, clock, server, seed, _event_line)
            if stats is not None:
                _show_stats(stats)

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        console.print("stopped")
