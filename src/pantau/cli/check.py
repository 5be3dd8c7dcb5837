"""`pantau check SERVICE`: is it down for everyone, or just me?

Checks this machine's connection (its DNS resolver, several independent hosts, a captive
portal), probes the service from here with the probe engine, asks a pantau server for the
global view, and concludes "not just you" (exit 1), "just you" (exit 3) or "no problem
known" (exit 0).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import typer
from rich.console import Console
from rich.table import Table

from pantau.cli.server_api import (
    ServerError,
    ServiceRef,
    UnknownService,
    chosen_server,
    find_service,
    reader_language,
    reader_zone,
)
from pantau.cli.server_api import service_status as fetch_status
from pantau.incidents.reader_check import (
    Conclusion,
    EndpointCheck,
    HostCheck,
    LocalFindings,
    conclude,
    findings_json,
)
from pantau.probes.assertions import ContentRules
from pantau.probes.classify import classify
from pantau.probes.http import HttpCheck, HttpProber
from pantau.probes.job import CONNECTIVITY_URLS, connectivity_check
from pantau.probes.resolve import DnsClient, DnsFailure, Nameserver, is_ip_literal
from pantau.probes.ssrf import Guard
from pantau.settings import Settings, SettingsError, load_settings
from pantau.signals import Text


async def check_hosts(prober: HttpProber, urls: list[str], seconds: float) -> list[HostCheck]:
    checks = [connectivity_check(u, seconds) for u in urls]
    observations = await asyncio.gather(*(prober.check(c) for c in checks))
    return [HostCheck(url=o.url, reached=o.status is not None, expected=o.status == 204,
                      detail=str(o.status) if o.status is not None else
                      (o.error_detail or (o.error.value if o.error else "")))
            for o in observations]


async def check_endpoints(prober: HttpProber, service: ServiceRef,
                          seconds: float) -> list[EndpointCheck]:
    checks = [HttpCheck(url=e["url"], expected_status=tuple(e["expect_status"]),
                        content=ContentRules(keyword=e["keyword"]), timeout=seconds)
              for e in service.endpoints]
    out = []
    for obs in await asyncio.gather(*(prober.check(c) for c in checks)):
        d = classify(obs)
        out.append(EndpointCheck(url=obs.url, ok=d.ok, layer=d.layer, cause=d.cause,
                                 status=obs.status, explanation=d.explanation))
    return out


async def check_resolver(dns: DnsClient, names: list[str],
                         seconds: float) -> tuple[bool | None, str]:
    if not names:
        return None, ""
    failures = []
    for name in names:
        try:
            await dns.addresses(name, lifetime=seconds)
            return True, ""
        except DnsFailure as exc:
            failures.append(exc.detail)
    return False, failures[0]


async def local_findings(service: ServiceRef, hosts: list[str], dns: DnsClient, guard: Guard,
                         ca_file: str | None, seconds: float) -> LocalFindings:
    names = sorted({h for h in (urlsplit(u).hostname or "" for u in
                                [*hosts, *(e["url"] for e in service.endpoints)])
                    if h and not is_ip_literal(h)})
    async with HttpProber(dns, guard, ca_file=ca_file) as prober:
        (resolver_ok, detail), host_checks, endpoints = await asyncio.gather(
            check_resolver(dns, names, seconds), check_hosts(prober, hosts, seconds),
            check_endpoints(prober, service, seconds))
    return LocalFindings(resolver_ok=resolver_ok, resolver_detail=detail,
                         hosts=tuple(host_checks), endpoints=tuple(endpoints))


async def run_check(query: str, settings: Settings, server_url: str, hosts: list[str],
                    dns: DnsClient, guard: Guard, ca_file: str | None, seconds: float,
                    tz: str) -> tuple[ServiceRef, LocalFindings, dict[str, Any] | None, str,
                                      Conclusion]:
    async with httpx.AsyncClient(base_url=server_url, timeout=seconds) as client:
        service = await find_service(client, query, settings)
        server_task = asyncio.create_task(fetch_status(client, service.slug, tz))
        try:
            local = await local_findings(service, hosts, dns, guard, ca_file, seconds)
        except BaseException:
            # The answer would have nowhere to go, and the client closes under it.
            server_task.cancel()
            await asyncio.wait([server_task])
            if not server_task.cancelled():
                server_task.exception()  # retrieved, or asyncio logs it as never retrieved
            raise
        server: dict[str, Any] | None = None
        error = ""
        try:
            server = await server_task
        except (ServerError, UnknownService) as exc:
            error = str(exc)
    return service, local, server, error, conclude(local, server, service.name)


_WORDS = {
    "title": Text("Checks from here", "Pemeriksaan dari sini"),
    "check": Text("check", "pemeriksaan"),
    "result": Text("result", "hasil"),
    "detail": Text("detail", "keterangan"),
    "ok": Text("ok", "ok"),
    "fail": Text("FAIL", "GAGAL"),
    "intercepted": Text("intercepted", "dicegat"),
    "server": Text("pantau server", "server pantau"),
}


def _print(console: Console, conclusion: Conclusion, local: LocalFindings,
           server_error: str, lang: str) -> None:
    def w(key: str) -> str:
        return _WORDS[key].get(lang)

    colour = {"no_problem": "green", "not_just_you": "red", "just_you": "yellow"}[
        conclusion.verdict.value]
    console.print(f"[bold {colour}]{conclusion.text.get(lang)}[/]")
    table = Table(title=w("title"))
    for column in ("check", "result", "detail"):
        table.add_column(w(column))
    if local.resolver_ok is not None:
        table.add_row("DNS", w("ok") if local.resolver_ok else w("fail"), local.resolver_detail)
    for h in local.hosts:
        result = w("ok") if h.expected else (w("intercepted") if h.reached else w("fail"))
        table.add_row(h.url, result, h.detail)
    for e in local.endpoints:
        text = e.explanation.get(lang) if e.explanation else e.cause
        table.add_row(e.url, w("ok") if e.ok else e.layer.value, text)
    console.print(table)
    if server_error:
        console.print(f"[yellow]{w('server')}: {server_error}[/]")
    for advice in conclusion.advice:
        console.print(f"• {advice.get(lang)}")


def register(app: typer.Typer) -> None:
    @app.command()
    def check(
        service: str = typer.Argument(..., help="Service name, alias or slug (e.g. chatgpt)."),
        server: str = typer.Option("", "--server", help="pantau server (env PANTAU_SERVER_URL)."),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
        host: list[str] = typer.Option(
            [], "--host", help="Connectivity URL answering 204 (repeatable); default: three "
            "independent public ones."),
        resolver: list[str] = typer.Option(
            [], "--resolver", help="DNS resolver HOST:PORT (repeatable) (env PANTAU_RESOLVERS)."),
        allow_private: bool = typer.Option(
            False, "--allow-private", help="Allow private/loopback targets (the lab)."),
        ca_file: Path | None = typer.Option(None, "--ca-file", exists=True, dir_okay=False,
                                            help="Extra CA bundle (PEM) (env PANTAU_CA_FILE)."),
        timeout: float = typer.Option(5.0, "--timeout", min=0.1, max=60, help="Seconds."),
        tz: str = typer.Option("", "--tz", help="Time zone for times (default: TZ or WIB)."),
        lang: str = typer.Option("", "--lang", help="en or id; default from LANG."),
    ) -> None:
        """Is it down for everyone, or just me? (exit 0 fine, 1 everyone, 3 just you)"""
        try:
            settings = load_settings()
            nameservers = [Nameserver.parse(r) for r in resolver or settings.resolvers]
        except SettingsError as exc:
            raise typer.BadParameter(str(exc)) from None
        except ValueError as exc:
            raise typer.BadParameter(f"HOST:PORT expected ({exc})",
                                     param_hint="--resolver") from None
        ca = ca_file or settings.ca_file
        zone = reader_zone(tz, settings)
        try:
            ref, local, status, error, conclusion = asyncio.run(run_check(
                service, settings, chosen_server(server, settings), host or list(CONNECTIVITY_URLS),
                DnsClient(nameservers), Guard(allow_private or settings.allow_private_targets),
                str(ca) if ca else None, timeout, zone))
        except UnknownService as exc:
            raise typer.BadParameter(str(exc), param_hint="SERVICE") from None
        if as_json:
            typer.echo(json.dumps({
                "service": ref.slug, "verdict": conclusion.verdict.value,
                "layer": conclusion.layer.value,
                "text": {"en": conclusion.text.en, "id": conclusion.text.id},
                "local": findings_json(local),
                "global": status if status is not None else {"error": error},
                "advice": [{"en": a.en, "id": a.id} for a in conclusion.advice],
            }, ensure_ascii=False))
        else:
            _print(Console(), conclusion, local, error, reader_language(lang))
        raise typer.Exit(conclusion.exit_code)
