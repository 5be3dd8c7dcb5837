from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from pantau.catalog import Catalog
from pantau.runtime import Runtime
from pantau.settings import load_settings
from pantau.store import Store
from pantau.web.app import create_app


@pytest.fixture
def client(sqlite_url: str) -> Iterator[TestClient]:
    store = Store(sqlite_url)
    store.migrate()
    runtime = Runtime(settings=load_settings(database=sqlite_url), store=store,
                      catalog=Catalog.default())
    with TestClient(create_app(runtime)) as test_client:
        yield test_client


def test_healthz(client: TestClient) -> None:
    answer = client.get("/healthz")
    assert answer.status_code == 200
    assert answer.json()["ok"] is True


def test_services_api_and_search(client: TestClient) -> None:
    everything = client.get("/api/v1/services").json()
    assert len(everything) >= 30
    assert [s["slug"] for s in client.get("/api/v1/services", params={"q": "openai"}).json()] \
        == ["chatgpt"]
    assert client.get("/api/v1/services/chatgpt").json()["cdn"] == "cloudflare"
    missing = client.get("/api/v1/services/nope")
    assert missing.status_code == 404
    assert "unknown service 'nope'" in missing.json()["detail"]


def test_openapi_docs(client: TestClient) -> None:
    assert "/api/v1/services" in client.get("/openapi.json").json()["paths"]
    assert client.get("/docs").status_code == 200


@pytest.mark.parametrize(
    ("headers", "params", "lang", "phrase"),
    [
        ({"Accept-Language": "id-ID,id;q=0.9,en;q=0.8"}, {}, "id", "Layanan yang dipantau"),
        ({"Accept-Language": "en-GB,en;q=0.9"}, {}, "en", "Services pantau watches"),
        ({"Accept-Language": "en"}, {"lang": "id"}, "id", "Apakah sedang gangguan?"),
        ({}, {}, "en", "Is it down?"),
    ],
)
def test_catalog_page_in_both_languages(
    client: TestClient, headers: dict[str, str], params: dict[str, str], lang: str, phrase: str
) -> None:
    page = client.get("/", headers=headers, params=params)
    assert page.status_code == 200
    assert f'<html lang="{lang}">' in page.text
    assert phrase in page.text
    assert "ChatGPT" in page.text and "BRImo" in page.text
    assert "http://" not in page.text and "https://" not in page.text  # no foreign assets


def test_language_choice_sticks(client: TestClient) -> None:
    client.get("/", params={"lang": "id"})
    assert 'lang="id"' in client.get("/", headers={"Accept-Language": "en"}).text


def test_time_zone_defaults_follow_language(client: TestClient) -> None:
    assert "Asia/Jakarta" in client.get("/", params={"lang": "id"}).text
    assert "UTC" in client.get("/", params={"lang": "en"}).text
    assert "Asia/Makassar" in client.get("/", params={"tz": "Asia/Makassar"}).text


def test_oversized_body_is_refused(client: TestClient) -> None:
    answer = client.post("/api/v1/services", content=b"x" * 100_000)
    assert answer.status_code == 413
    assert "too large" in answer.json()["detail"]
