"""Every refusal has a stable code and a sentence in the reader's language; pages get a page."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.foundation.test_web_foundation import client

__all__ = ["client"]
ID = {"Accept-Language": "id-ID,id;q=0.9"}


@pytest.mark.parametrize(
    ("method", "path", "status", "code", "en", "id_"),
    [
        ("GET", "/api/v1/services/nope", 404, "unknown_service",
         "unknown service 'nope'", "layanan 'nope' tidak dikenal"),
        ("GET", "/api/v1/services/nope/crowd", 404, "unknown_service",
         "unknown service 'nope'", "layanan 'nope' tidak dikenal"),
        ("GET", "/api/v1/incidents/424242", 404, "unknown_incident",
         "no incident '424242'", "tidak ada gangguan '424242'"),
        ("GET", "/api/v1/incidents?limit=0", 422, "invalid_request",
         "invalid request: limit:", "permintaan tidak sah: limit:"),
        ("GET", "/api/v1/nothing-here", 404, "not_found",
         "nothing here: /api/v1/nothing-here", "tidak ada apa-apa di sini"),
        ("POST", "/healthz", 405, "method_not_allowed",
         "POST is not allowed on /healthz", "POST tidak diizinkan pada /healthz"),
    ],
)
def test_api_errors_in_both_languages(
    client: TestClient, method: str, path: str, status: int, code: str, en: str, id_: str
) -> None:
    english = client.request(method, path)
    indonesian = client.request(method, path, headers=ID)
    for answer, sentence in ((english, en), (indonesian, id_)):
        assert answer.status_code == status
        assert answer.headers["content-type"] == "application/json"
        assert answer.json()["code"] == code
        assert sentence in answer.json()["detail"]


def test_oversized_body_is_refused_in_the_readers_language(client: TestClient) -> None:
    answer = client.post("/api/v1/services?lang=id", content=b"x" * 100_000)
    assert answer.status_code == 413
    assert answer.json() == {
        "detail": "isi permintaan terlalu besar: batasnya 65536 bita", "code": "too_large"
    }


def test_an_oversized_form_is_answered_with_a_page(client: TestClient) -> None:
    # A person's browser sent it (the report form, pasted with far too much): a page in
    # their language, whether the size was declared or only found while reading.
    form = {"content-type": "application/x-www-form-urlencoded"}
    declared = client.post("/api/v1/services/chatgpt/reports?lang=id",
                           content=b"text=" + b"x" * 100_000, headers=form)
    streamed = client.post("/api/v1/services/chatgpt/reports?lang=en",
                           content=iter([b"text="] + [b"x" * 10_000] * 10), headers=form)
    for answer, heading, sentence in (
        (declared, "Terlalu besar", "batasnya 65536 bita"),
        (streamed, "Too large", "the limit is 65536 bytes"),
    ):
        assert answer.status_code == 413
        assert answer.headers["content-type"].startswith("text/html")
        assert heading in answer.text and sentence in answer.text


def test_a_missing_page_is_a_page(client: TestClient) -> None:
    answer = client.get("/incidents/424242", params={"lang": "id"})
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/html")
    assert "Tidak ditemukan" in answer.text and "tidak ada gangguan" in answer.text
    assert 'href="/"' in answer.text
    english = client.get("/no/such/page", params={"lang": "en"})
    assert english.status_code == 404 and "Not found" in english.text
    bad = client.get("/history", params={"before": "not-a-time", "lang": "id"})
    assert bad.status_code == 422 and "permintaan tidak sah: before" in bad.text
    # The thank-you page after a report, for a service the catalog does not know.
    thanks = client.get("/services/nope/reported", params={"lang": "id"})
    assert thanks.status_code == 404 and thanks.headers["content-type"].startswith("text/html")
    assert "layanan &#39;nope&#39; tidak dikenal" in thanks.text
    # A person is pointed at the home page, not the API.
    assert "halaman utama mendaftar semuanya" in thanks.text and "/api/v1" not in thanks.text


@pytest.mark.parametrize(("query", "en", "id_"), [
    ("limit=abc", "limit: must be a whole number", "limit: harus bilangan bulat"),
    ("limit=0", "limit: must be at least 1", "limit: paling kecil 1"),
    ("state=bogus", "state: is not one of the values it takes",
     "state: bukan salah satu nilai yang diterima"),
    # A reason we have no words of our own for (a number too long to read).
    ("limit=" + "9" * 5000, "limit: is not valid", "limit: tidak sah"),
])
def test_a_fields_reason_is_in_the_readers_language(
    client: TestClient, query: str, en: str, id_: str
) -> None:
    assert client.get(f"/api/v1/incidents?{query}").json()["detail"] == f"invalid request: {en}"
    assert (client.get(f"/api/v1/incidents?{query}", headers=ID).json()["detail"]
            == f"permintaan tidak sah: {id_}")


def test_a_method_not_allowed_names_those_that_are(client: TestClient) -> None:
    # RFC 9110: a 405 carries Allow.
    answer = client.put("/api/v1/services/chatgpt/reports")
    assert answer.status_code == 405 and answer.headers["allow"] == "POST"
    assert client.post("/healthz").headers["allow"] == "GET"
