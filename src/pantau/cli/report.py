"""`pantau report SERVICE`: tell a pantau server that a service does not work for you."""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Any

import httpx
import typer
from rich.console import Console

from pantau.cli.server_api import chosen_server, reader_language
from pantau.crowd.validate import Category
from pantau.signals import Text

NO_SERVER = 3
"""Exit status when no pantau server answered (none listening, or another program):
what a script retries, unlike a refusal (1)."""
_SLUG = re.compile(r"[a-z0-9-]+")
"""What a service's name in the catalog is made of, and all a path may hold of it."""
SENT = Text("Report sent, thank you (id {id}).", "Laporan terkirim, terima kasih (id {id}).")
REFUSED = Text("The server refused the report: {detail}", "Server menolak laporan: {detail}")
UNREACHABLE = Text("Cannot reach {url}: {error}", "Tidak dapat menghubungi {url}: {error}")
NOT_A_SERVICE = Text("{service!r} is not a service name (letters, digits and -, as chatgpt)",
                     "{service!r} bukan nama layanan (huruf, angka dan -, seperti chatgpt)")
NOT_PANTAU = Text("{url} answered HTTP {status} but not as a pantau server does",
                  "{url} menjawab HTTP {status}, tetapi tidak seperti server pantau")


def _client_id() -> str:
    """A stable id for this machine's user, so repeated reports count once."""
    path = Path(typer.get_app_dir("pantau")) / "client-id"
    try:
        return path.read_text().strip()
    except OSError:
        value = secrets.token_urlsafe(16)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(value)
        except OSError:
            pass  # a read-only home: this report still gets an id, just not a lasting one
        return value


def register(app: typer.Typer) -> None:
    @app.command()
    def report(
        service: str = typer.Argument(..., help="Service slug, e.g. chatgpt."),
        category: Category = typer.Option(Category.OTHER, help="What does not work."),
        text: str | None = typer.Option(None, help="The error message you see."),
        region: str | None = typer.Option(None, help="ISO 3166-2 region, e.g. ID-JK."),
        server: str | None = typer.Option(None, help="pantau server URL (env PANTAU_SERVER_URL)."),
        lang: str = typer.Option("", "--lang", help="en or id; default from LANG."),
    ) -> None:
        """Report a problem with SERVICE to a pantau server (exit 0 sent, 1 refused by
        the server, 2 bad usage, 3 no pantau server answered)."""
        from pantau.cli import CliError
        from pantau.cli.serve import settings_from_cli

        lang = reader_language(lang)
        if not _SLUG.fullmatch(service):
            raise CliError(NOT_A_SERVICE.get(lang).format(service=service), 2)
        base = chosen_server(server, settings_from_cli())
        body: dict[str, str] = {"category": category.value}
        if text:
            body["text"] = text
        if region:
            body["region"] = region
        url = f"{base}/api/v1/services/{service}/reports"
        try:
            # The server words its refusal in the language asked for.
            headers = {"X-Pantau-Client": _client_id(), "Accept-Language": lang}
            response = httpx.post(url, json=body, headers=headers, timeout=10.0)
        except httpx.HTTPError as exc:
            raise CliError(UNREACHABLE.get(lang).format(url=base, error=exc), NO_SERVER) \
                from None
        answer = _json_object(response)
        if response.status_code == 202 and isinstance(answer.get("id"), str):
            Console().print(SENT.get(lang).format(id=answer["id"]))
            return
        detail = answer.get("detail")
        if response.status_code < 400 or not isinstance(detail, str):
            raise CliError(NOT_PANTAU.get(lang).format(url=base, status=response.status_code),
                           NO_SERVER)
        raise CliError(REFUSED.get(lang).format(detail=detail))


def _json_object(response: httpx.Response) -> dict[str, Any]:
    """The answer's JSON object; empty if it is not one (a proxy's page, another server)."""
    try:
        answer = response.json()
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}
