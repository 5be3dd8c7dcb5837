"""`pantau wait SERVICE`: block until the service works again, then ring the bell.

Polls a pantau server's status with exponential backoff (so thousands of waiting
terminals do not hammer it), shows progress, and on recovery rings the terminal bell and
says how long the service was down. `--timeout` gives up (exit 1).
"""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import datetime
from typing import Any

import httpx
import typer
from rich.console import Console

from pantau.cli.server_api import (
    ServerError,
    UnknownService,
    chosen_server,
    find_service,
    incident,
    reader_language,
    reader_zone,
    service_status,
)
from pantau.incidents.timefmt import duration
from pantau.settings import Settings, SettingsError, load_settings
from pantau.signals import Text

EXIT_BACK, EXIT_GAVE_UP = 0, 1


def next_interval(current: float, maximum: float) -> float:
    return min(maximum, current * 1.5)


async def outage_minutes(client: httpx.AsyncClient, incident_id: str | None,
                         status: dict[str, Any], waited_s: float) -> int:
    """How long it was down: the incident's own span when the server knows it."""
    if incident_id is not None:
        try:
            found = await incident(client, incident_id)
        except (ServerError, UnknownService):
            found = None
        if found is not None:
            start = datetime.fromisoformat(found["started_at"])
            end = (datetime.fromisoformat(found["resolved_at"]) if found["resolved_at"]
                   else datetime.fromisoformat(status["at"]))
            return max(0, round((end - start).total_seconds() / 60))
    return round(waited_s / 60)


async def wait_until_back(query: str, settings: Settings, server_url: str, interval: float,
                          max_interval: float, give_up_after: float | None, tz: str,
                          console: Console, lang: str) -> int:
    started_wall = time.monotonic()
    incident_id: str | None = None
    async with httpx.AsyncClient(base_url=server_url, timeout=10.0) as client:
        service = await find_service(client, query, settings)
        delay = interval
        seen_down = False
        with console.status("") as progress:
            while True:
                try:
                    status = await service_status(client, service.slug, tz)
                except ServerError as exc:
                    status = None
                    progress.update(f"server: {exc}")
                if status is not None:
                    if status["state"] == "operational":
                        break
                    seen_down = seen_down or status["state"] != "unknown"
                    if status.get("incident"):
                        incident_id = status["incident"]["id"]
                    line = Text(f"{service.name}: {status['state']} ({status['layer']}); "
                                f"next check in {delay:.0f} s",
                                f"{service.name}: {status['state']} ({status['layer']}); "
                                f"cek berikutnya dalam {delay:.0f} dtk")
                    progress.update(line.get(lang))
                waited = time.monotonic() - started_wall
                if give_up_after is not None and waited + delay > give_up_after:
                    console.print(Text(
                        f"Gave up after {waited:.0f} s: {service.name} is still not working.",
                        f"Berhenti setelah {waited:.0f} dtk: {service.name} masih belum "
                        f"berfungsi.").get(lang))
                    return EXIT_GAVE_UP
                await asyncio.sleep(delay)
                delay = next_interval(delay, max_interval)
        if not seen_down:
            console.print(Text(f"{service.name} is working.",
                               f"{service.name} berfungsi.").get(lang))
            return EXIT_BACK
        minutes = await outage_minutes(client, incident_id, status,
                                       time.monotonic() - started_wall)
    took = duration(minutes)
    # The bell goes straight to stdout: Rich only rings on a terminal, and a script
    # piping `pantau wait` may still want it.
    sys.stdout.write("\a")
    sys.stdout.flush()
    console.print(Text(f"{service.name} works again; it was down for {took.en}.",
                       f"{service.name} kembali berfungsi; sempat down selama {took.id}."
                       ).get(lang))
    return EXIT_BACK


def register(app: typer.Typer) -> None:
    @app.command()
    def wait(
        service: str = typer.Argument(..., help="Service name, alias or slug."),
        server: str = typer.Option("", "--server", help="pantau server (env PANTAU_SERVER_URL)."),
        interval: float = typer.Option(10.0, "--interval", min=0.05, help="First wait, seconds."),
        max_interval: float = typer.Option(120.0, "--max-interval", min=0.05,
                                           help="Longest wait between checks, seconds."),
        timeout: float | None = typer.Option(None, "--timeout", min=0.1,
                                             help="Give up after this many seconds (exit 1)."),
        tz: str = typer.Option("", "--tz", help="Time zone for times (default: TZ or WIB)."),
        lang: str = typer.Option("", "--lang", help="en or id; default from LANG."),
    ) -> None:
        """Wait until SERVICE works again, then ring the bell (exit 0; 1 on --timeout)."""
        try:
            settings = load_settings()
        except SettingsError as exc:
            raise typer.BadParameter(str(exc)) from None
        language = reader_language(lang)
        zone = reader_zone(tz, settings)
        try:
            code = asyncio.run(wait_until_back(
                service, settings, chosen_server(server, settings), interval,
                max(interval, max_interval), timeout, zone, Console(), language))
        except UnknownService as exc:
            raise typer.BadParameter(str(exc), param_hint="SERVICE") from None
        except KeyboardInterrupt:
            code = 130
        raise typer.Exit(code)
