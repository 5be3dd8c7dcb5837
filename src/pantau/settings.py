"""Typed settings, read once from the environment (`PANTAU_*`) and validated at start-up.

Secrets may also come from files: for a field `secret_key`, `PANTAU_SECRET_KEY_FILE`
names a file whose contents are used (the Docker/Kubernetes secrets convention).
"""

from __future__ import annotations

import os
import re
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from pantau.crowd.region import open_database

DEFAULT_DATABASE = "sqlite:///pantau.db"
_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?|https?://\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")
"""What a browser sends as Origin: scheme and host (and port), no path."""
_PLACEHOLDER_SECRET = "change-me"  # noqa: S105 - a marker that is refused outside development


def _commas(value: Any) -> Any:
    """A comma-separated setting as its list of parts (other values as they are)."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class SettingsError(ValueError):
    """A setting is missing or wrong; the message names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PANTAU_", extra="ignore", frozen=True)

    # --- core ---
    database: str = Field(DEFAULT_DATABASE, description="sqlite:///PATH or postgresql://…")
    redis: str | None = Field(None, description="redis://… to share state between processes")
    catalog: Path | None = Field(None, description="YAML catalog; the bundled one by default")
    host: str = Field("127.0.0.1", description="address `pantau serve` binds")
    port: int = Field(8000, ge=1, le=65535, description="port `pantau serve` binds")
    workers: int = Field(
        1, ge=1, le=64,
        description="processes `pantau serve` runs on its port, one per core; more than "
        "one needs PANTAU_REDIS",
    )
    environment: str = Field("development", pattern="^(development|production)$")
    secret_key: SecretStr = Field(
        SecretStr(_PLACEHOLDER_SECRET),
        description="salt for reporter identities and signed cookies; required in production",
    )
    default_timezone_id: str = Field("Asia/Jakarta", description="time zone for Indonesian")
    default_timezone_en: str = Field("UTC", description="time zone for other readers")
    retention_days: int = Field(30, ge=1, description="days raw events are kept")
    allow_private_targets: bool = Field(
        False,
        description="let probes and status page fetches reach private/loopback addresses "
        "(the lab needs it)",
    )
    ca_file: Path | None = Field(None, description="extra CA bundle for probes (the lab's CA)")
    resolvers: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="DNS resolvers for probes, HOST[:PORT], comma-separated"
    )
    vantage: str = Field("server", description="name of this probe vantage point")
    vantage_targets: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="URLs a vantage point checks to know it is itself online, comma-separated;"
        " public connectivity-check endpoints in production when empty",
    )
    probe_interval: float = Field(60.0, ge=1, description="seconds between probes of a monitor")
    monitor: bool = Field(
        True, description="run the monitoring jobs; false for a process that only serves"
    )
    server_url: str = Field(
        "http://127.0.0.1:8000", description="pantau server asked by `pantau check`/`wait`"
    )

    # --- crowd ---
    trusted_proxies: Annotated[list[IPv4Network | IPv6Network], NoDecode] = Field(
        default_factory=list,
        description="peers whose X-Forwarded-For is believed, comma-separated networks",
    )
    report_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="other sites whose pages may send reports with a form, comma-separated "
        "origins such as https://status.example.com (reports from any other site's page "
        "are refused)",
    )
    report_queue_size: int = Field(10_000, ge=1, description="pending writes before 503")
    report_limit_address: str = Field(
        "6/minute;30/hour", description="reports one client address may send (limits syntax)"
    )
    report_limit_network: str = Field(
        "120/minute", description="reports one /24 (IPv4) or /48 (IPv6) network may send"
    )
    crowd_network_voices: int = Field(
        3, ge=1, description="distinct reporters one network may add to the count per 30 min"
    )
    crowd_min_networks: int = Field(
        25,
        ge=1,
        description="distinct networks above normal (over the last 10 or 30 min) a crowd "
        "detection needs",
    )
    page_cache_seconds: float = Field(
        5.0,
        ge=0,
        description="seconds a rendered home or service page, or a service's status "
        "answer, is served again, and the status API's answers may be kept by caches; "
        "0: never",
    )
    crowd_timezone: str = Field(
        "Asia/Jakarta",
        description="time zone whose days and hours the crowd detector learns (where most "
        "reporters live); the stored reporter hashes change at its midnight",
    )
    crowd_prior_rate: float = Field(
        0.2, gt=0, description="reports per minute assumed for a service with no history"
    )
    geoip_database: Path | None = Field(
        None, description="MaxMind-format City database (.mmdb) giving a report's region"
    )
    geo_country_header: str | None = Field(
        "cf-ipcountry",
        pattern=r"^[A-Za-z0-9-]*$",
        description="header in which a trusted proxy names the client's country; empty: none",
    )
    geo_region_header: str | None = Field(
        "cf-region-code",
        pattern=r"^[A-Za-z0-9-]*$",
        description="header in which a trusted proxy names the client's ISO 3166-2 "
        "subdivision; empty: none",
    )

    @field_validator("resolvers", "vantage_targets", mode="before")
    @classmethod
    def _split_resolvers(cls, value: Any) -> Any:
        return _commas(value)

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_networks(cls, value: Any) -> Any:
        value = _commas(value)
        if isinstance(value, list):
            return [ip_network(item, strict=False) if isinstance(item, str) else item
                    for item in value]
        return value

    @field_validator("report_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        value = _commas(value)
        if isinstance(value, list):
            for item in value:
                if not isinstance(item, str) or not _ORIGIN.fullmatch(item):
                    raise ValueError(f"{item!r} is not an origin such as https://status.example.com")
            return [item.lower() for item in value]
        return value

    @field_validator("database")
    @classmethod
    def _check_database(cls, value: str) -> str:
        if not value.startswith(("sqlite:///", "postgresql://", "postgresql+psycopg://")):
            raise ValueError("must start with sqlite:/// or postgresql://")
        return value

    @field_validator("default_timezone_id", "default_timezone_en", "crowd_timezone")
    @classmethod
    def _check_zone(cls, value: str) -> str:
        # Pages fall back to these zones for every reader, and the detector's days are
        # one's: a typo must stop the start, not fail each page or minute later.
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (an IANA name such as "
                             "Asia/Jakarta)") from None
        return value

    @field_validator("geoip_database")
    @classmethod
    def _check_geoip(cls, value: Path | None) -> Path | None:
        # Opened once here so that a wrong path stops the start rather than every report.
        if value is not None:
            open_database(value).close()
        return value

    @field_validator("geo_country_header", "geo_region_header")
    @classmethod
    def _empty_header(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("redis")
    @classmethod
    def _check_redis(cls, value: str | None) -> str | None:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value or None

    @model_validator(mode="after")
    def _workers_share_redis(self) -> Settings:
        # Without Redis each process would count, limit and dedupe alone: one person
        # would count once per process, and every job would run in every process.
        if self.workers > 1 and self.redis is None:
            raise ValueError(
                "PANTAU_WORKERS above 1 needs PANTAU_REDIS (the processes share their "
                "rate limits, dedupe and jobs through it)"
            )
        return self

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> Settings:
        if (self.environment == "production"
                and self.secret_key.get_secret_value() == _PLACEHOLDER_SECRET):
            raise ValueError("PANTAU_SECRET_KEY must be set to a real secret in production")
        return self


def _secrets_from_files(environ: dict[str, str]) -> dict[str, str]:
    """Turn every `PANTAU_X_FILE=path` into `x=<file contents>`."""
    values: dict[str, str] = {}
    for key, path in environ.items():
        if key.startswith("PANTAU_") and key.endswith("_FILE"):
            name = key[len("PANTAU_"):-len("_FILE")].lower()
            if name not in Settings.model_fields:
                raise SettingsError(f"{key}: there is no setting PANTAU_{name.upper()}")
            try:
                values[name] = Path(path).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise SettingsError(f"{key}: cannot read {path}: {exc.strerror}") from exc
    return values


def load_settings(**overrides: Any) -> Settings:
    """Read the environment (and `*_FILE` secrets), apply overrides, validate.

    Raises `SettingsError` with one line naming the faulty variable.
    """
    values: dict[str, Any] = dict(_secrets_from_files(dict(os.environ)))
    values.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        if not first["loc"]:  # a rule across settings: its message names them
            raise SettingsError(first["msg"].removeprefix("Value error, ")) from None
        field = str(first["loc"][0])
        raise SettingsError(f"PANTAU_{field.upper()}: {first['msg']}") from None
