"""The catalog: which services pantau watches, and where to look.

A YAML file with a `services` list. Loading validates every entry; a mistake is
reported as one line naming the file, the entry and the field.
"""

from __future__ import annotations

from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, ValidationError


class CatalogError(ValueError):
    """The catalog file cannot be used; the message says where and why."""


class EndpointKind(StrEnum):
    WEB = "web"
    API = "api"
    APP = "app"


class StatusPageKind(StrEnum):
    STATUSPAGE = "statuspage"
    INCIDENTIO = "incidentio"
    RSS = "rss"
    ATOM = "atom"
    AUTO = "auto"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Endpoint(_Model):
    url: HttpUrl
    kind: EndpointKind = EndpointKind.WEB
    expect_status: tuple[int, ...] = (200,)
    keyword: str | None = None


class StatusPage(_Model):
    url: HttpUrl
    kind: StatusPageKind = StatusPageKind.AUTO


class Service(_Model):
    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    name: str = Field(min_length=1, max_length=80)
    aliases: tuple[str, ...] = ()
    category: str = "other"
    endpoints: tuple[Endpoint, ...] = ()
    status_page: StatusPage | None = None
    cdn: str | None = None
    notes: str = ""

    def matches(self, query: str) -> bool:
        """True when `query` names this service (slug, name or alias, any case)."""
        needle = query.strip().casefold()
        names = (self.slug, self.name.casefold(), *(a.casefold() for a in self.aliases))
        return bool(needle) and any(needle == n or needle in n for n in names)


class Catalog(_Model):
    services: tuple[Service, ...]

    def get(self, slug: str) -> Service | None:
        return next((s for s in self.services if s.slug == slug), None)

    def search(self, query: str) -> list[Service]:
        exact = [s for s in self.services if query.strip().casefold() in
                 (s.slug, s.name.casefold(), *(a.casefold() for a in s.aliases))]
        return exact or [s for s in self.services if s.matches(query)]

    @classmethod
    def load(cls, path: Path) -> Catalog:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise CatalogError(f"{path}: cannot read: {exc.strerror}") from exc
        return cls.parse(text, str(path))

    @classmethod
    def default(cls) -> Catalog:
        text = resources.files("pantau").joinpath("data/catalog.yaml").read_text("utf-8")
        return cls.parse(text, "bundled catalog.yaml")

    @classmethod
    def parse(cls, text: str, source: str) -> Catalog:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" line {mark.line + 1}" if mark is not None else ""
            raise CatalogError(f"{source}:{where} not valid YAML") from None
        if not isinstance(data, dict) or not isinstance(data.get("services"), list):
            raise CatalogError(f"{source}: expected a mapping with a 'services' list")
        return cls.from_entries(data["services"], source)

    @classmethod
    def from_entries(cls, entries: list[Any], source: str) -> Catalog:
        services: list[Service] = []
        seen: set[str] = set()
        for index, entry in enumerate(entries):
            label = entry.get("slug") if isinstance(entry, dict) else None
            name = f"entry {index + 1}" + (f" ({label})" if label else "")
            try:
                service = Service.model_validate(entry)
            except ValidationError as exc:
                err = exc.errors()[0]
                field = ".".join(str(p) for p in err["loc"]) or "entry"
                raise CatalogError(f"{source}: {name}: {field}: {err['msg']}") from None
            if service.slug in seen:
                raise CatalogError(f"{source}: {name}: slug: duplicate slug {service.slug!r}")
            seen.add(service.slug)
            services.append(service)
        return cls(services=tuple(services))
