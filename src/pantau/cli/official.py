"""`pantau official URL`: what a vendor's status page says right now."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from urllib.parse import urlsplit

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pantau.clock import SystemClock
from pantau.official.detect import ADAPTERS, CATALOG_KINDS, detect
from pantau.official.errors import PageError
from pantau.official.fetch import new_client
from pantau.official.model import ComponentState, PageSnapshot
from pantau.official.poller import PagePoller
from pantau.official.serialize import snapshot_dict
from pantau.official.words import status_words
from pantau.probes.ssrf import Guard
from pantau.settings import SettingsError, load_settings
from pantau.signals import OfficialPageState, Text

STATE_TEXT: dict[OfficialPageState, Text] = {
    OfficialPageState.OPERATIONAL: Text("operational", "beroperasi normal"),
    OfficialPageState.DEGRADED: Text("degraded", "menurun"),
    OfficialPageState.PARTIAL_OUTAGE: Text("partial outage", "gangguan sebagian"),
    OfficialPageState.MAJOR_OUTAGE: Text("major outage", "gangguan besar"),
    OfficialPageState.MAINTENANCE: Text("maintenance", "pemeliharaan"),
}
STATE_STYLE = {
    OfficialPageState.OPERATIONAL: "green",
    OfficialPageState.DEGRADED: "yellow",
    OfficialPageState.PARTIAL_OUTAGE: "dark_orange",
    OfficialPageState.MAJOR_OUTAGE: "red",
    OfficialPageState.MAINTENANCE: "blue",
}
COMPONENT_TEXT: dict[ComponentState, Text] = {
    ComponentState.OPERATIONAL: Text("operational", "normal"),
    ComponentState.DEGRADED: Text("degraded performance", "kinerja menurun"),
    ComponentState.PARTIAL_OUTAGE: Text("partial outage", "gangguan sebagian"),
    ComponentState.MAJOR_OUTAGE: Text("major outage", "gangguan besar"),
    ComponentState.MAINTENANCE: Text("under maintenance", "dalam pemeliharaan"),
}
LABELS = {
    "components": Text("Components", "Komponen"),
    "incidents": Text("Open incidents", "Insiden terbuka"),
    "none": Text("No open incidents.", "Tidak ada insiden terbuka."),
    "maintenance": Text("Maintenance", "Pemeliharaan"),
    "all_ok": Text("All components operational.", "Semua komponen beroperasi normal."),
}


async def read_page(url: str, kind: str, seconds: float, guard: Guard) -> PageSnapshot:
    async with new_client(guard) as client:
        page_kind = CATALOG_KINDS[kind]
        if page_kind is None:
            page_kind, url = await detect(client, url, seconds=seconds)
        poller = PagePoller(url, ADAPTERS[page_kind], client, SystemClock(), timeout=seconds)
        result = await poller.poll()
        if result.error is not None:
            raise result.error
        assert result.snapshot is not None
        return result.snapshot


def when(at: datetime) -> str:
    """In the reader's own time zone: the machine's local one."""
    return at.astimezone().strftime("%Y-%m-%d %H:%M %Z")


def show(snap: PageSnapshot, lang: str, console: Console) -> None:
    def t(key: str) -> str:
        return LABELS[key].get(lang)

    # Everything the vendor wrote is escaped: Rich reads "[...]" as markup, so a title
    # like "Errors on [/v1/chat]" would vanish or fail the whole printout.
    state = STATE_TEXT[snap.state].get(lang)
    console.print(
        f"[bold]{escape(snap.name or snap.url)}[/bold]  [{STATE_STYLE[snap.state]}]{state}[/]"
        + (f" — {escape(snap.description)}" if snap.description else "")
    )
    console.print(f"[dim]{escape(snap.url)} ({snap.kind.value})[/dim]")
    bad = [c for c in snap.components if c.state.value != "operational"]
    if snap.components:
        if bad:
            table = Table(title=t("components"), title_justify="left", show_header=False)
            for c in bad:
                table.add_row(escape(c.name), COMPONENT_TEXT[c.state].get(lang))
            console.print(table)
        else:
            console.print(t("all_ok"))
    console.print(f"\n[bold]{t('incidents')}[/bold]")
    if not snap.open_incidents:
        console.print(t("none"))
    for inc in snap.open_incidents:
        latest = inc.updates[-1] if inc.updates else None
        console.print(
            f"• {escape(inc.title)} — [bold]{escape(status_words(inc.status).get(lang))}[/bold]"
            f" ({when(inc.first_post_at)})"
        )
        if latest and latest.body:
            console.print(f"  {escape(latest.body)}", highlight=False)
        if inc.components:
            console.print(f"  [dim]{escape(', '.join(inc.components))}[/dim]")
    if snap.current_maintenances:
        console.print(f"\n[bold]{t('maintenance')}[/bold]")
        for m in snap.current_maintenances:
            window = ""
            if m.scheduled_for:
                window = f" {when(m.scheduled_for)}"
                if m.scheduled_until:
                    window += f" – {when(m.scheduled_until)}"
            status = escape(status_words(m.status).get(lang))
            console.print(f"• {escape(m.title)} — [bold]{status}[/bold]{window}")


def register(app: typer.Typer) -> None:
    @app.command()
    def official(
        url: str = typer.Argument(..., help="The status page address."),
        kind: str = typer.Option(
            "auto", help="statuspage, incidentio, rss, atom or auto (detect)."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print JSON instead of text."),
        lang: str = typer.Option("en", help="Language of the text: en or id."),
        timeout: float = typer.Option(10.0, min=0.1, help="Seconds to wait for the page."),
        allow_private: bool = typer.Option(
            False, "--allow-private",
            help="Allow private/loopback addresses (the lab) (env PANTAU_ALLOW_PRIVATE_TARGETS)."),
    ) -> None:
        """Print what a vendor's status page says right now.

        Exit status: 0 read, 1 the page could not be read, 2 bad usage.
        """
        from pantau.cli import CliError

        try:
            parts = urlsplit(url)
            valid = parts.scheme in ("http", "https") and bool(parts.hostname)
        except ValueError:  # e.g. an unclosed [IPv6 bracket
            valid = False
        if not valid:
            raise CliError(f"not an http(s) URL: {url!r}", code=2)
        if kind not in CATALOG_KINDS:
            raise CliError(f"--kind must be one of {', '.join(CATALOG_KINDS)}", code=2)
        if lang not in ("en", "id"):
            raise CliError("--lang must be en or id", code=2)
        try:
            settings = load_settings()
        except SettingsError as exc:
            raise CliError(str(exc), code=2) from None
        guard = Guard(allow_private=allow_private or settings.allow_private_targets)
        try:
            snap = asyncio.run(read_page(url, kind, timeout, guard))
        except PageError as exc:
            if as_json:
                typer.echo(
                    json.dumps(
                        {
                            "error": exc.kind.value,
                            "message": exc.message,
                            "message_id": f"{exc.url}: {exc.text.id}",
                        }
                    )
                )
            raise CliError(f"{exc.url}: {exc.text.get(lang)}") from None
        if as_json:
            typer.echo(json.dumps(snapshot_dict(snap), ensure_ascii=False, indent=2))
        else:
            show(snap, lang, Console(soft_wrap=True))
