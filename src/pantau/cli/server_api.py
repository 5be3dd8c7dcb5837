"""What `pantau check` and `pantau wait` ask a pantau server (its JSON API, over httpx)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import httpx
import typer

from pantau.catalog import Catalog
from pantau.settings import Settings


class ServerError(RuntimeError):
    """The server could not be asked; the message is one line."""


class UnknownService(LookupError):
    pass


@dataclass(frozen=True, slots=True)
class ServiceRef:
    slug: str
    name: str
    endpoints: tuple[dict[str, Any], ...]


def _endpoints(definition: dict[str, Any]) -> tuple[dict[str, Any], ...]:
    return tuple({"url": str(e["url"]), "kind": e.get("kind", "web"),
                  "expect_status": tuple(e.get("expect_status") or ()),
                  "keyword": e.get("keyword")} for e in definition.get("endpoints", ()))


def chosen_server(given: str | None, settings: Settings) -> str:
    """The pantau server to ask: `--server`, else PANTAU_SERVER_URL; bad usage (exit 2)
    when it is not an http(s) URL, which httpx would otherwise raise as a traceback."""
    url = (given or settings.server_url).rstrip("/")
    try:
        parsed = httpx.URL(url)
        valid = parsed.scheme in ("http", "https") and bool(parsed.host)
    except httpx.InvalidURL:
        valid = False
    if not valid:
        raise typer.BadParameter(f"not an http(s) URL: {url!r}",
                                 param_hint="'--server' / PANTAU_SERVER_URL")
    return url


def reader_language(given: str) -> str:
    """`--lang`, else the terminal's LANG: id for Indonesian locales, en otherwise."""
    return "id" if (given or os.environ.get("LANG", "")).startswith("id") else "en"


def reader_zone(given: str, settings: Settings) -> str:
    """`--tz`, else the terminal's TZ, else the default zone for Indonesian readers."""
    return given or os.environ.get("TZ", "") or settings.default_timezone_id


async def _get(client: httpx.AsyncClient, path: str, **params: str) -> Any:
    try:
        answer = await client.get(path, params=params)
    except httpx.HTTPError as exc:
        raise ServerError(f"{client.base_url}: {exc.__class__.__name__}: {exc}") from None
    try:
        body = answer.json()
    except ValueError:
        # Some other web server answers at that address (a proxy page, a wrong port).
        raise ServerError(f"{client.base_url}{path}: HTTP {answer.status_code}, not a pantau "
                          "server's JSON") from None
    if answer.status_code == 404:
        detail = body.get("detail", path) if isinstance(body, dict) else path
        raise UnknownService(str(detail))
    if answer.status_code != 200:
        raise ServerError(f"{client.base_url}{path}: HTTP {answer.status_code}")
    return body


async def find_service(client: httpx.AsyncClient | None, query: str,
                       settings: Settings) -> ServiceRef:
    """The service the reader means, from the server's catalog (or the local one if the
    server cannot be asked)."""
    if client is not None:
        try:
            found = await _get(client, "/api/v1/services", q=query)
            if not found:
                raise UnknownService(f"no service matches {query!r}")
            slug = found[0]["slug"]
            definition = await _get(client, f"/api/v1/services/{slug}")
            return ServiceRef(slug, definition["name"], _endpoints(definition))
        except ServerError:
            pass
    catalog = Catalog.load(settings.catalog) if settings.catalog else Catalog.default()
    matches = catalog.search(query)
    if not matches:
        raise UnknownService(f"no service matches {query!r}")
    service = matches[0]
    return ServiceRef(service.slug, service.name,
                      _endpoints(service.model_dump(mode="json")))


async def service_status(client: httpx.AsyncClient, slug: str, tz: str) -> dict[str, Any]:
    status: dict[str, Any] = await _get(client, f"/api/v1/services/{slug}/status", tz=tz)
    return status


async def incident(client: httpx.AsyncClient, incident_id: str) -> dict[str, Any]:
    found: dict[str, Any] = await _get(client, f"/api/v1/incidents/{incident_id}")
    return found
