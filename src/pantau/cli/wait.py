"""`pantau wait SERVICE`: block until the service works again, then ring the bell.

Polls a pantau server's status with exponential backoff (so thousands of waiting
terminals do not hammer it), shows progress, and on recovery rings the terminal bell and
says how long the service was down. `--timeout` gives up (exit 1).
"""

from __future__ import annotations

import asyncio
import os
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import typer
from rich.console import Console

from pantau.cli.server_api import ServerError, UnknownService, find_service, service_status
from pantau.incidents.timefmt import duration
from pantau.settings import Settings, SettingsError, load_settings
from pantau.signals import Text

EXIT_BACK, EXIT_GAVE_UP = 0, 1


def next_interval(current: float, maximum: float) -> float:
    return min(maximum, current * 1.5)


def down_since(status: dict[str, Any]) -> datetime | None:
    incident = status.get("incident")
    if incident and incident.get("started_at"):
        return datetime.fromisoformat(incident["started_at"])
    return None


async def wait_until_back(query: str, settings: Settings, server_url: str, interval: float,
                          max_interval: float, give_up_after: float | None, tz: str,
                          console: Console, lang: str) -> int:
    started_wall = time.monotonic()
    since: datetime | None = None
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
                    since = since or down_since(status)
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
        console.print(Text(f"{service.name} is working.", f"{service.name} berfungsi.").get(lang))
        return EXIT_BACK
    back_at = datetime.fromisoformat(status["at"]) if status.get("at") else datetime.now(UTC)
    minutes = round(((back_at - since).total_seconds() if since else
                     time.monotonic() - started_wall) / 60)
    took = duration(max(0, minutes))
    console.bell()
    console.print(Text(f"{service.name} works again; it was down for {took.en}.",
                       f"{service.name} kembali berfungsi; sempat down selama {took.id}."
                       ).get(lang))
    return EXIT_BACK


def register(app: typer.Typer) -> None:
    @app.command()
    def wait(
        service: str = typer.Argument(..., help="Service name, alias or slug."),
        server: str = typer.Option("", "--server", help="pantau server [env PANTAU_SERVER_URL]."),
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
        chosen = lang or os.environ.get("LANG", "")
        language = "id" if chosen.startswith("id") else "en"
        zone = tz or os.environ.get("TZ", "") or settings.default_timezone_id
        try:
            code = asyncio.run(wait_until_back(
                service, settings, server or settings.server_url, interval,
                max(interval, max_interval), timeout, zone, Console(), language))
        except UnknownService as exc:
            raise typer.BadParameter(str(exc), param_hint="SERVICE") from None
        except KeyboardInterrupt:
            code = 130
        raise typer.Exit(code)
