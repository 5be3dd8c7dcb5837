"""The report API and the no-JavaScript form, over HTTP against a real store."""

from __future__ import annotations

import gzip
import html
import re

import pytest

from pantau.clock import FrozenClock
from pantau.store import Store
from pantau.web.render import LANG_COOKIE
from tests.crowd.crowd_fixtures import T0, client, crowd_store, make_app

__all__ = ["crowd_store"]
URL = "/api/v1/services/chatgpt/reports"


async def test_report_is_accepted_after_it_is_stored(crowd_store: Store) -> None:
    app = make_app(crowd_store, FrozenClock(T0))
    async with client(app) as http:
        r = await http.post(URL, json={"category": "website", "text": "502 Bad Gateway"})
        assert r.status_code == 202
        assert len(r.json()["id"]) == 32
        assert "pantau_cid" in r.cookies  # a first-party id for the next report
    rows = await crowd_store.report_rows(T0, T0.replace(hour=12))
    assert len(rows) == 1 and rows[0].counted and rows[0].text_norm == "502 bad gateway"


async def test_same_reporter_counts_once_in_thirty_minutes(crowd_store: Store) -> None:
    clock = FrozenClock(T0)
    app = make_app(crowd_store, clock)
    headers = {"X-Pantau-Client": "cli-abcdefgh", "X-Forwarded-For": "203.0.113.5"}
    async with client(app) as http:
        for _ in range(3):
            r = await http.post(URL, json={"category": "login"}, headers=headers)
            assert r.status_code == 202
        clock.advance(31 * 60)
        assert (await http.post(URL, json={"category": "app"}, headers=headers)).status_code == 202
    rows = await crowd_store.report_rows(T0, T0.replace(hour=13))
    assert [r.counted for r in rows] == [True, False, False, True]


async def test_bad_input_gets_a_clear_4xx(crowd_store: Store) -> None:
    app = make_app(crowd_store, FrozenClock(T0))
    json_type = {"content-type": "application/json"}
    cases = [
        (URL, {"json": {"category": "coffee"}}, 422, "category: must be one of website"),
        (URL, {"json": {"category": 7}}, 422, "category"),
        (URL, {"json": {"category": "app", "text": 5}}, 422, "text"),
        (URL, {"json": {"category": "app", "region": "Jakarta"}}, 422, "ISO 3166-2"),
        (URL, {"json": {"category": "app", "text": "x" * 281}}, 422, "280"),
        (URL, {"json": ["website"]}, 422, "JSON object"),
        (URL, {"content": b"{not json", "headers": json_type}, 400, "not valid JSON"),
        (URL, {"content": b'{"category": "\xff"}', "headers": json_type}, 400, "UTF-8"),
        (URL, {"content": b"x" * 5000, "headers": json_type}, 413, "4096 bytes"),
        (URL, {"content": b"<a/>", "headers": {"content-type": "text/xml"}}, 415, "json"),
        ("/api/v1/services/nope/reports", {"json": {"category": "app"}}, 404, "unknown service"),
    ]
    async with client(app) as http:
        for url, kwargs, status, words in cases:
            r = await http.post(url, **kwargs)  # type: ignore[arg-type]
            assert r.status_code == status, (kwargs, r.text)
            assert words in r.json()["detail"], (kwargs, r.text)
    assert await crowd_store.report_count() == 0


async def test_refusals_carry_a_code_and_a_detail_in_the_readers_language(
    crowd_store: Store,
) -> None:
    app = make_app(crowd_store, FrozenClock(T0), report_limit_address="1/minute")
    json_type = {"content-type": "application/json"}
    cases = [
        ({"json": {"category": "coffee"}}, 422, "bad_category", "harus salah satu dari"),
        ({"json": {"category": "app", "region": "Jakarta"}}, 422, "bad_region", "kode ISO"),
        ({"json": {"category": "app", "text": 5}}, 422, "bad_text", "paling banyak 280"),
        ({"json": {"category": "app", "x": 1}}, 422, "unknown_field", "x: kolom tidak dikenal"),
        ({"json": ["website"]}, 422, "not_object", "objek JSON"),
        ({"content": b"{not json", "headers": json_type}, 400, "not_json", "bita ke-1"),
        # A body that ends too early names the byte where it ended, not "None".
        ({"content": b'{"category": "app"', "headers": json_type}, 400, "not_json",
         "bita ke-18"),
        ({"json": {"category": "app", "a-b": 1}}, 422, "unknown_field",
         "a-b: kolom tidak dikenal"),
        ({"content": b'{"category": "\xff"}', "headers": json_type}, 400, "not_utf8",
         "bukan UTF-8"),
        ({"content": b"x" * 5000, "headers": json_type}, 413, "too_large", "4096 bita"),
        ({"content": b"<a/>", "headers": {"content-type": "text/xml"}}, 415,
         "unsupported_type", "kirim application/json"),
        ({"content": gzip.compress(b'{"category": "app"}'),
          "headers": {**json_type, "content-encoding": "gzip"}}, 415,
         "unsupported_encoding", "tanpa kompresi"),
        ({"content": b'{"category": "app"}', "headers": {**json_type, "content-encoding": "br"}},
         415, "unsupported_encoding", "tanpa kompresi"),
    ]
    async with client(app) as http:
        for kwargs, status, code, words in cases:
            for language in ("id", "en"):
                chosen = {"lang": language}
                r = await http.post(URL, params=chosen, **kwargs)  # type: ignore[arg-type]
                assert (r.status_code, r.json()["code"]) == (status, code), (kwargs, r.text)
                assert (words in r.json()["detail"]) == (language == "id"), (kwargs, r.text)
        # Accept-Language chooses too, and so does the pages' language cookie.
        headers = {"Accept-Language": "id-ID,id;q=0.9,en;q=0.5", "X-Forwarded-For": "198.51.100.9"}
        first = await http.post(URL, json={"category": "app"}, headers=headers)
        limited = await http.post(URL, json={"category": "app"}, headers=headers)
        assert first.status_code == 202 and "code" not in first.json()
        assert limited.status_code == 429 and limited.json()["code"] == "rate_limited"
        assert limited.json()["detail"].startswith("terlalu banyak laporan")
        http.cookies.set(LANG_COOKIE, "id")
        missing = await http.post("/api/v1/services/nope/reports", json={"category": "app"})
        assert missing.status_code == 404 and missing.json()["code"] == "unknown_service"
        assert "tidak dikenal" in missing.json()["detail"]
        # A person's form gets a page, which points at the home page, not the API.
        page = await http.post("/api/v1/services/nope/reports", data={"category": "app"})
        assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
        assert "halaman utama mendaftar semuanya" in page.text and "/api/v1" not in page.text


async def test_rate_limit_answers_429_with_retry_after(crowd_store: Store) -> None:
    app = make_app(crowd_store, FrozenClock(T0), report_limit_address="2/minute")
    async with client(app) as http:
        codes = []
        for i in range(4):
            headers = {"X-Pantau-Client": f"client-{i:04d}", "X-Forwarded-For": "198.51.100.9"}
            r = await http.post(URL, json={"category": "app"}, headers=headers)
            codes.append(r.status_code)
        assert codes == [202, 202, 429, 429]
        # Until a report is allowed again: at 90 s, half of this minute's two still weigh.
        assert r.headers["retry-after"] == "90"
        # Another address is not affected.
        other = {"X-Forwarded-For": "198.51.101.9"}
        assert (await http.post(URL, json={"category": "app"}, headers=other)).status_code == 202


async def test_untrusted_peer_cannot_spoof_its_address(crowd_store: Store) -> None:
    app = make_app(crowd_store, FrozenClock(T0), report_limit_address="1/minute")
    async with client(app, peer="192.0.2.50") as http:
        first = await http.post(
            URL, json={"category": "app"}, headers={"X-Forwarded-For": "1.1.1.1"}
        )
        again = await http.post(
            URL, json={"category": "app"}, headers={"X-Forwarded-For": "2.2.2.2"}
        )
    assert (first.status_code, again.status_code) == (202, 429)


async def test_html_form_redirects_to_a_thank_you(crowd_store: Store) -> None:
    app = make_app(crowd_store, FrozenClock(T0))
    async with client(app) as http:
        r = await http.post(URL, data={"category": "payments", "text": "Error 1020", "region": ""})
        assert r.status_code == 303
        assert r.headers["location"] == "/services/chatgpt/reported?lang=en"
        page = await http.get(r.headers["location"], params={"lang": "id"})
        assert page.status_code == 200 and "Terima kasih" in page.text
        bad = await http.post(URL, data={"category": "coffee"})
        # The language chosen above sticks (cookie): the refusal is in Indonesian too.
        assert bad.status_code == 422 and "Laporan tidak terkirim" in bad.text
        assert "Pilih apa yang tidak berfungsi" in bad.text
        assert "/services/chatgpt" in bad.text
    rows = await crowd_store.report_rows(T0, T0.replace(hour=12))
    assert [(r.category, r.text_norm) for r in rows] == [("payments", "error 1020")]


@pytest.mark.parametrize(("sent", "invalid", "en", "id_"), [
    ({"category": "login", "text": "OTP <b>tidak</b> masuk", "region": "ID-ZZ"}, "region",
     "That region is not one we know", "Wilayah itu tidak kami kenal"),
    ({"category": "app", "text": "x" * 281}, "text",
     "The message is longer than 280 characters", "Pesannya lebih dari 280 karakter"),
    ({"category": "coffee", "text": "502"}, None,
     "Please choose what does not work", "Pilih apa yang tidak berfungsi"),
])
async def test_a_refused_form_says_which_field_and_gives_back_what_was_typed(
    crowd_store: Store, sent: dict[str, str], invalid: str | None, en: str, id_: str
) -> None:
    app = make_app(crowd_store, FrozenClock(T0))
    async with client(app) as http:
        for language, words in (("en", en), ("id", id_)):
            page = await http.post(URL, params={"lang": language}, data=sent)
            assert page.status_code == 422 and words in page.text
            # The form again, filled in as sent (escaped), the field to mend marked.
            form = page.text[page.text.index('<form id="report-form"'):]
            assert f'value="{html.escape(sent["text"])}"' in form
            if "region" in sent:
                assert f'value="{sent["region"]}"' in form
            if invalid is not None:
                assert re.search(rf'name="{invalid}"[^>]*aria-invalid="true"', form)
            else:
                assert 'aria-invalid' not in form
    assert await crowd_store.report_count() == 0


async def test_a_proxys_added_forwarded_line_is_read_after_the_clients_own(
    crowd_store: Store,
) -> None:
    # The client sends its own X-Forwarded-For; the trusted proxy adds a second line
    # with the address it really saw. Both paths must read every line, in order: the
    # client's line alone would let one person pose as anybody, and dodge the limits.
    app = make_app(crowd_store, FrozenClock(T0), report_limit_address="1/minute")

    def lines(real: str) -> list[tuple[str, str]]:
        return [("X-Forwarded-For", "192.0.2.1"), ("X-Forwarded-For", real)]

    async with client(app) as http:
        for real in ("203.0.113.7", "203.0.113.8"):
            answer = await http.post(URL, json={"category": "app"}, headers=lines(real))
            assert answer.status_code == 202, answer.text
        for real in ("203.0.113.9", "203.0.113.10"):
            form = await http.post(URL, data={"category": "app"}, headers=lines(real))
            assert form.status_code == 303, form.text
        # The same real address again is over its limit, on both paths.
        again = await http.post(URL, json={"category": "app"}, headers=lines("203.0.113.7"))
        assert again.status_code == 429
        form = await http.post(URL, data={"category": "app"}, headers=lines("203.0.113.9"))
        assert form.status_code == 429
