from __future__ import annotations

from pathlib import Path

import pytest

from pantau.catalog import Catalog, CatalogError
from pantau.settings import SettingsError, load_settings


def test_defaults_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PANTAU_PORT", "9001")
    monkeypatch.setenv("PANTAU_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8")
    monkeypatch.setenv("PANTAU_RESOLVERS", "127.0.0.1:5353,1.1.1.1")
    settings = load_settings()
    assert settings.port == 9001
    assert [str(n) for n in settings.trusted_proxies] == ["127.0.0.1/32", "10.0.0.0/8"]
    assert settings.resolvers == ["127.0.0.1:5353", "1.1.1.1"]
    assert settings.database.startswith("sqlite:///")


def test_secret_from_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("s3cret-value\n")
    monkeypatch.setenv("PANTAU_SECRET_KEY_FILE", str(secret))
    assert load_settings().secret_key.get_secret_value() == "s3cret-value"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("PANTAU_PORT", "eighty", "PANTAU_PORT"),
        ("PANTAU_DATABASE", "mysql://x", "PANTAU_DATABASE: .*sqlite"),
        ("PANTAU_REDIS", "http://x", "PANTAU_REDIS"),
        ("PANTAU_DEFAULT_TIMEZONE_ID", "Asia/Jakrta", "PANTAU_DEFAULT_TIMEZONE_ID: .*Jakrta"),
        ("PANTAU_DEFAULT_TIMEZONE_EN", "../etc/passwd", "PANTAU_DEFAULT_TIMEZONE_EN"),
        ("PANTAU_TRUSTED_PROXIES", "not-a-network", "PANTAU_TRUSTED_PROXIES"),
        ("PANTAU_NOPE_FILE", "/x", "no setting PANTAU_NOPE"),
        ("PANTAU_SECRET_KEY_FILE", "/does/not/exist", "cannot read"),
    ],
)
def test_bad_settings_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=message):
        load_settings()


def test_production_refuses_the_placeholder_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PANTAU_ENVIRONMENT", "production")
    with pytest.raises(SettingsError, match="PANTAU_SECRET_KEY"):
        load_settings()


def test_default_catalog_has_the_services_people_check() -> None:
    catalog = Catalog.default()
    slugs = {s.slug for s in catalog.services}
    for slug in ("chatgpt", "gemini", "claude", "whatsapp", "instagram", "facebook", "x",
                 "youtube", "tiktok", "google-search", "gmail", "discord", "slack", "zoom",
                 "netflix", "spotify", "github", "cloudflare", "aws", "steam", "tokopedia",
                 "shopee", "gojek", "grab", "bca-mobile", "brimo", "telkomsel", "indihome",
                 "dana", "ovo"):
        assert slug in slugs
    assert sum(1 for s in catalog.services if s.status_page) >= 12
    assert catalog.search("twitter")[0].slug == "x"
    assert catalog.search("BCA")[0].slug == "bca-mobile"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("services: [", "not valid YAML"),
        ("[]", "a 'services' list"),
        ("services:\n- {slug: ok, name: OK}\n- {slug: Bad Slug, name: x}",
         r"entry 2 \(Bad Slug\): slug:"),
        ("services:\n- {slug: a, name: A, endpoints: [{url: 'not a url'}]}",
         r"entry 1 \(a\): endpoints\.0\.url:"),
        ("services:\n- {slug: a, name: A, status_page: {url: 'https://s.example', kind: x}}",
         r"status_page\.kind:"),
        ("services:\n- {slug: a, name: A, colour: red}", "colour: Extra inputs"),
        ("services:\n- {slug: a, name: A}\n- {slug: a, name: B}", "duplicate slug"),
    ],
)
def test_bad_catalog_names_file_entry_and_field(text: str, message: str) -> None:
    with pytest.raises(CatalogError, match=message) as raised:
        Catalog.parse(text, "my.yaml")
    assert str(raised.value).startswith("my.yaml:")
