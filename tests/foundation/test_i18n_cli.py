from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import redis
from babel.messages.pofile import read_po

from pantau.web.i18n import format_time, negotiate
from tests.services import REDIS_URL, unavailable


def _po(language: str) -> Path:
    return Path(str(resources.files("pantau").joinpath(
        f"locales/{language}/LC_MESSAGES/messages.po")))


def test_every_message_is_translated_into_indonesian() -> None:
    with _po("id").open("rb") as po:
        catalog = read_po(po, locale="id")
    missing = [m.id for m in catalog if m.id and not m.string]
    assert missing == [], "translate these in locales/id/LC_MESSAGES/messages.po"


def test_every_template_message_is_in_the_catalogue() -> None:
    from jinja2.ext import babel_extract

    with _po("id").open("rb") as po:
        known = {m.id for m in read_po(po, locale="id")}
    templates = Path(str(resources.files("pantau").joinpath("web/templates")))
    for template in templates.glob("*.html"):
        with template.open("rb") as handle:
            for _line, _fn, message, _comments in babel_extract(handle, ["_"], [], {}):
                assert message in known, f"{template.name}: run `make messages` for {message!r}"


@pytest.mark.parametrize(
    ("header", "requested", "expected"),
    [("id-ID,id;q=0.9", None, "id"), ("fr, en;q=0.5", None, "en"), ("de", None, "en"),
     ("en;q=0.4, id;q=0.8", None, "id"), ("ms-MY", None, "id"), ("id", "en", "en"),
     (None, "xx", "en"), ("en;q=abc, id", None, "id"),
     # q=0 refuses a language; a tag refused is never chosen for its being known.
     ("fr-FR, id;q=0", None, "en"), ("id;q=0, en;q=0", None, "en"), ("id;q=0.0", None, "en")],
)
def test_language_negotiation(header: str | None, requested: str | None, expected: str) -> None:
    assert negotiate(header, requested) == expected


def test_times_in_the_readers_zone() -> None:
    onset = datetime(2025, 1, 23, 11, 33, tzinfo=UTC)
    assert "18.33" in format_time(onset, "id", ZoneInfo("Asia/Jakarta"))
    assert format_time(onset, "id", ZoneInfo("Asia/Jakarta")).endswith("WIB")
    assert "11:33" in format_time(onset, "en", ZoneInfo("UTC"))
    # Day before month in both languages: 23 January, never 1/23 (nor 7 December as 12/7).
    assert format_time(onset, "en", ZoneInfo("UTC"), "short") == "23/01/2025, 11:33 UTC"
    assert format_time(onset, "id", ZoneInfo("Asia/Jakarta"), "short") == "23/1/25 18.33 WIB"


def _pantau(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pantau", *args], capture_output=True,
                          text=True, timeout=60, env=env)


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["serve", "--database", "mysql://x"], 2, "error: PANTAU_DATABASE"),
        (["serve", "--database", "postgresql://postgres@127.0.0.1:5999/x"], 1,
         "error: cannot open database"),
        (["serve", "--port", "70000"], 2, "error: PANTAU_PORT"),
    ],
)
def test_cli_errors_are_one_line(args: list[str], code: int, message: str) -> None:
    result = _pantau(*args)
    assert result.returncode == code
    assert result.stderr.startswith(message)
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_cli_bad_catalog_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "catalog.yaml"
    bad.write_text("services:\n- {slug: ok, name: OK, endpoints: [{url: nope}]}\n")
    result = _pantau("serve", "--catalog", str(bad), "--database",
                     f"sqlite:///{tmp_path}/x.db")
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: {bad}: entry 1 (ok): endpoints.0.url:")
    assert len(result.stderr.strip().splitlines()) == 1


def test_help_lists_only_working_commands() -> None:
    result = _pantau("--help")
    assert result.returncode == 0
    assert "serve" in result.stdout and "demo" in result.stdout


@pytest.mark.parametrize(("command", "variables"), [
    ("serve", ["PANTAU_HOST", "PANTAU_PORT", "PANTAU_DATABASE", "PANTAU_REDIS"]),
    ("report", ["PANTAU_SERVER_URL"]),
    ("check", ["PANTAU_SERVER_URL", "PANTAU_RESOLVERS", "PANTAU_CA_FILE"]),
])
def test_help_names_the_environment_variable_of_each_option(
    command: str, variables: list[str]
) -> None:
    # Wide, so that no name is cut where it wraps; as Rich markup "[env PANTAU_HOST]"
    # was a tag and vanished.
    result = _pantau(command, "--help", env={**os.environ, "COLUMNS": "200"})
    assert result.returncode == 0
    for variable in variables:
        assert f"(env {variable})" in result.stdout, variable


def test_redis_is_reachable_for_scale_out() -> None:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        unavailable("Redis", exc)
    client.set("pantau:test", "1", ex=10)
    assert client.get("pantau:test") == b"1"
    client.close()
