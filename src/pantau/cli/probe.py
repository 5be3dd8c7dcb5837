"""`pantau probe URL`: one check from this machine, its verdict and its phase timings."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pantau.probes.assertions import ContentRules
from pantau.probes.classify import classify
from pantau.probes.http import HttpCheck, HttpProber
from pantau.probes.observation import Diagnosis, ErrorKind, Observation
from pantau.probes.resolve import DnsClient, Nameserver
from pantau.probes.ssrf import Guard
from pantau.settings import SettingsError, load_settings
from pantau.signals import Layer

EXIT_OK, EXIT_FAULT, EXIT_USAGE = 0, 1, 2


def result_json(obs: Observation, diagnosis: Diagnosis) -> dict[str, Any]:
    tls = None
    if obs.tls is not None:
        tls = {"days_to_expiry": obs.tls.days_to_expiry, "subject": obs.tls.subject,
               "issuer": obs.tls.issuer, "version": obs.tls.version}
    return {
        "url": obs.url,
        "ok": diagnosis.ok,
        "status": obs.status,
        "layer": diagnosis.layer.value,
        "cause": diagnosis.cause,
        "cdn": diagnosis.cdn,
        "timings": obs.timings.as_dict(),
        "evidence": dict(diagnosis.evidence),
        "explanation": {"en": diagnosis.explanation.en, "id": diagnosis.explanation.id},
        "error": obs.error.value if obs.error else None,
        "addresses": list(obs.addresses),
        "peer": obs.peer,
        "tls": tls,
    }


def _parse_headers(values: list[str]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for value in values:
        name, sep, content = value.partition(":")
        if not sep or not name.strip():
            raise typer.BadParameter(
                f"expected 'Name: value', got {value!r}", param_hint="--header")
        headers[name.strip()] = content.strip()
    return headers


def _print_table(console: Console, result: dict[str, Any], language: str) -> None:
    # What the server sent (headers, body snippets) reaches the evidence and is not Rich
    # markup: "[/x]" in a Server header would otherwise abort the printout.
    colour = "green" if result["ok"] else "red"
    summary = Table(show_header=False, box=None)
    summary.add_row("URL", escape(result["url"]))
    summary.add_row("status", str(result["status"] or "-"))
    summary.add_row("layer", f"[{colour}]{result['layer']}[/]")
    summary.add_row("cause", escape(result["cause"]))
    summary.add_row("CDN", escape(result["cdn"] or "-"))
    console.print(summary)
    console.print(f"[{colour}]{escape(result['explanation'][language])}[/]")
    timings = Table(title="timings (ms)")
    for phase in ("dns", "connect", "tls", "ttfb", "total"):
        timings.add_column(phase, justify="right")
    timings.add_row(*(
        "-" if result["timings"][f"{p}_ms"] is None else f"{result['timings'][f'{p}_ms']:.1f}"
        for p in ("dns", "connect", "tls", "ttfb", "total")
    ))
    console.print(timings)
    evidence = Table(title="evidence", show_header=False)
    for key, value in result["evidence"].items():
        evidence.add_row(escape(key), escape(str(value)))
    console.print(evidence)


async def _run(check: HttpCheck, dns: DnsClient, guard: Guard, ca_file: str | None) -> Observation:
    async with HttpProber(dns, guard, ca_file=ca_file) as prober:
        return await prober.check(check)


def register(app: typer.Typer) -> None:
    @app.command()
    def probe(
        url: str = typer.Argument(..., help="http:// or https:// URL to check."),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
        resolver: list[str] = typer.Option(
            [], "--resolver", help="DNS resolver HOST:PORT (repeatable) (env PANTAU_RESOLVERS)."),
        timeout: float = typer.Option(10.0, "--timeout", min=0.1, max=120, help="Seconds."),
        allow_private: bool = typer.Option(
            False, "--allow-private",
            help="Allow private/loopback targets (env PANTAU_ALLOW_PRIVATE_TARGETS)."),
        ca_file: Path | None = typer.Option(
            None, "--ca-file", exists=True, dir_okay=False,
            help="Extra CA bundle (PEM) (env PANTAU_CA_FILE)."),
        method: str = typer.Option("GET", "--method", "-X"),
        header: list[str] = typer.Option([], "--header", "-H", help="'Name: value'."),
        expect_status: list[int] = typer.Option(
            [], "--expect-status", help="Healthy status (repeatable); default any 2xx/3xx."),
        keyword: str | None = typer.Option(None, "--keyword", help="Text the body must contain."),
        regex: str | None = typer.Option(None, "--regex", help="Regex the body must match."),
        json_path: str | None = typer.Option(None, "--json-path", help="e.g. status.indicator"),
        json_equals: str | None = typer.Option(None, "--json-equals"),
        no_follow: bool = typer.Option(False, "--no-follow", help="Do not follow redirects."),
        slow_ms: float | None = typer.Option(
            None, "--slow-ms", min=1, help="A correct answer slower than this is a fault."),
        lang: str = typer.Option("", "--lang", help="en or id; default from LANG."),
    ) -> None:
        """Check URL once: which layer fails (DNS, network, TLS, CDN, origin, app), and why."""
        if not url.startswith(("http://", "https://")):
            raise typer.BadParameter("must start with http:// or https://", param_hint="URL")
        try:
            settings = load_settings()
        except SettingsError as exc:
            raise typer.BadParameter(str(exc)) from None
        try:
            nameservers = [Nameserver.parse(r) for r in resolver or settings.resolvers]
        except ValueError as exc:
            raise typer.BadParameter(
                f"HOST:PORT expected ({exc})", param_hint="--resolver") from None
        check = HttpCheck(
            url=url, method=method, headers=_parse_headers(header),
            expected_status=tuple(expect_status),
            content=ContentRules(keyword=keyword, regex=regex, json_path=json_path,
                                 json_equals=json_equals),
            follow_redirects=not no_follow, timeout=timeout, slow_ms=slow_ms,
        )
        guard = Guard(allow_private=allow_private or settings.allow_private_targets)
        ca = ca_file or settings.ca_file
        obs = asyncio.run(_run(check, DnsClient(nameservers), guard, str(ca) if ca else None))
        diagnosis = classify(obs)
        result = result_json(obs, diagnosis)
        if as_json:
            typer.echo(json.dumps(result, ensure_ascii=False, default=str))
        else:
            language = lang or ("id" if os.environ.get("LANG", "").startswith("id") else "en")
            _print_table(Console(), result, "id" if language.startswith("id") else "en")
        if obs.error is ErrorKind.TARGET_REFUSED:
            # Not a fault of the target: the operator must allow it (or fix the URL).
            raise typer.Exit(EXIT_USAGE)
        raise typer.Exit(EXIT_OK if diagnosis.layer is Layer.NONE else EXIT_FAULT)
