"""The report API against forged, repeated and unlucky reports: other sites' pages,
clients without cookies or ids, cookies behind proxies, refusals that must not cost a
voice, and both paths reading a request alike."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi import FastAPI

from pantau.clock import FrozenClock
from pantau.crowd.validate import Category
from pantau.settings import SettingsError, load_settings
from pantau.store import Store
from pantau.web.page_text import CATEGORY
from pantau.web.reports import open_endpoint
from tests.crowd.crowd_fixtures import T0, client, crowd_store, make_app

__all__ = ["crowd_store"]
URL = "/api/v1/services/chatgpt/reports"
HOST = "pantau.test"


async def _counted(store: Store) -> list[bool]:
    return [r.counted for r in await store.report_rows(T0, T0 + timedelta(hours=1))]


@pytest.mark.parametrize(("headers", "status"), [
    ({"Sec-Fetch-Site": "cross-site"}, 403),
    ({"Sec-Fetch-Site": "same-site"}, 403),
    ({"Sec-Fetch-Site": "cross-site", "Origin": f"http://{HOST}"}, 403),
    ({"Origin": "https://evil.example"}, 403),
    ({"Origin": "null"}, 403),
    ({"Sec-Fetch-Site": "same-origin", "Origin": f"http://{HOST}"}, 202),
    ({"Sec-Fetch-Site": "none"}, 202),
    ({"Origin": f"http://{HOST}"}, 202),
    # The same site, spelt otherwise by the Host header: case, the scheme's default port.
    ({"Origin": f"http://{HOST}", "Host": f"{HOST.upper()}:80"}, 202),
    ({"Origin": f"https://{HOST}", "Host": f"{HOST}:443"}, 202),
    ({"Origin": f"http://{HOST}:8080", "Host": HOST}, 403),
    ({"Origin": f"https://{HOST}", "Host": f"{HOST}:80"}, 403),
    ({}, 202),  # a program: the CLI, curl, a script
])
async def test_a_report_from_another_sites_page_is_refused(
    crowd_store: Store, headers: dict[str, str], status: int
) -> None:
    # Any page could otherwise have its visitors' browsers report: real people on real
    # networks, an outage made up. The JSON path (answered before the app) and the form.
    app = make_app(crowd_store, FrozenClock(T0))
    async with client(app) as http:
        api = await http.post(URL, json={"category": "app"}, headers=headers)
        form = await http.post(URL, data={"category": "app"},
                               headers={**headers, "Accept-Language": "id"})
    assert api.status_code == status, api.text
    assert form.status_code == (303 if status == 202 else 403), form.text
    if status == 403:
        assert api.json()["code"] == "cross_site"
        assert "Silakan melapor dari halaman layanan" in form.text
        assert await _counted(crowd_store) == []


@pytest.mark.parametrize("presented", [None, "short", "not an id!"])
async def test_a_browser_is_known_from_its_first_report_by_the_id_it_is_given(
    crowd_store: Store, presented: str | None
) -> None:
    # Its first report, with no id we accept, is already the id's that comes back with
    # the cookie; known by its address, the next report (with the cookie) was a second
    # voice. The JSON path and the form alike.
    app = make_app(crowd_store, FrozenClock(T0))
    for i, body in enumerate(({"json": {"category": "app"}}, {"data": {"category": "app"}})):
        async with client(app) as http:
            if presented is not None:
                http.cookies.set("pantau_cid", presented)
            headers = {"X-Forwarded-For": f"203.0.11{i}.5"}
            first = await http.post(URL, headers=headers, **body)  # type: ignore[arg-type]
            issued = first.cookies["pantau_cid"]
            assert issued != presented and len(issued) == 22
            again = await http.post(URL, headers=headers, **body)  # type: ignore[arg-type]
            assert "set-cookie" not in again.headers
    assert await _counted(crowd_store) == [True, False, True, False]


async def test_a_client_that_never_sends_its_id_back_counts_within_its_networks_voices(
    crowd_store: Store,
) -> None:
    # curl, a script ignoring cookies: a new reporter each time, as with forged ids, and
    # held to the network's three voices in 30 minutes.
    app = make_app(crowd_store, FrozenClock(T0))
    async with client(app) as http:
        for _ in range(5):
            http.cookies.clear()
            r = await http.post(URL, headers={"X-Forwarded-For": "203.0.113.5"},
                                json={"category": "app"})
            assert r.status_code == 202
    assert await _counted(crowd_store) == [True, True, True, False, False]


async def test_the_cookie_is_only_sent_back_over_https(crowd_store: Store) -> None:
    app = make_app(crowd_store, FrozenClock(T0))
    async with client(app) as http:
        plain = await http.post(URL, json={"category": "app"})
        http.cookies.clear()
        secure = await http.post(f"https://{HOST}{URL}", json={"category": "app"})
        http.cookies.clear()
        form = await http.post(f"https://{HOST}{URL}", data={"category": "app"})
    assert "secure" not in plain.headers["set-cookie"].lower()
    assert "secure" in secure.headers["set-cookie"].lower()
    assert "secure" in form.headers["set-cookie"].lower()


@pytest.mark.parametrize(("peer", "secure"), [("127.0.0.1", True), ("198.51.100.9", False)])
async def test_the_cookie_is_secure_behind_a_trusted_proxy_that_ended_tls(
    crowd_store: Store, peer: str, secure: bool
) -> None:
    # The proxy speaks plain HTTP to pantau and says the browser came over HTTPS; only a
    # trusted proxy (PANTAU_TRUSTED_PROXIES) is believed.
    app = make_app(crowd_store, FrozenClock(T0))
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.5"}
    async with client(app, peer=peer) as http:
        api = await http.post(URL, json={"category": "app"}, headers=headers)
        http.cookies.clear()
        form = await http.post(URL, data={"category": "app"}, headers=headers)
    for answer in (api, form):
        assert ("secure" in answer.headers["set-cookie"].lower()) is secure


async def test_a_report_refused_as_overloaded_does_not_use_up_the_voice(
    crowd_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(crowd_store, FrozenClock(T0))
    headers = {"X-Pantau-Client": "cli-abcdefgh", "X-Forwarded-For": "203.0.113.5"}
    async with client(app) as http:
        monkeypatch.setattr(crowd_store, "MAX_PENDING_REPORTS", 0)
        busy = await http.post(URL, json={"category": "app"}, headers=headers)
        monkeypatch.undo()
        retry = await http.post(URL, json={"category": "app"}, headers=headers)
    assert (busy.status_code, busy.json()["code"], busy.headers["retry-after"]) == (
        503, "overloaded", "1")
    assert retry.status_code == 202
    assert await _counted(crowd_store) == [True]  # the retry it was told to make counts


async def test_a_store_that_cannot_write_answers_503_in_both_languages(
    crowd_store: Store,
) -> None:
    app = make_app(crowd_store, FrozenClock(T0))
    async with client(app) as http:
        await crowd_store.writer.stop()  # as at shutdown: nothing more is written
        en = await http.post(URL, json={"category": "app"})
        id_ = await http.post(URL, json={"category": "app"}, params={"lang": "id"})
        form = await http.post(URL, data={"category": "app"}, params={"lang": "id"})
    assert (en.status_code, en.json()["code"], en.headers["retry-after"]) == (
        503, "store_failed", "5")
    assert en.json()["detail"].startswith("the report could not be stored")
    assert id_.json()["detail"].startswith("laporan tidak dapat disimpan")
    assert form.status_code == 503 and "Laporan tidak terkirim" in form.text


async def test_both_paths_read_a_header_given_twice_as_its_first_line(
    crowd_store: Store,
) -> None:
    # The JSON path reads the headers itself, the form's path through Starlette: one
    # request must be one answer and one reporter, whichever path it takes.
    app = make_app(crowd_store, FrozenClock(T0))
    forwarded = ("X-Forwarded-For", "203.0.113.5")
    async with client(app) as http:
        first_json = await http.post(URL, content=b'{"category": "app"}', headers=[
            ("Content-Type", "application/json"), ("Content-Type", "text/plain"), forwarded])
        first_other = await http.post(URL, content=b'{"category": "app"}', headers=[
            ("Content-Type", "text/plain"), ("Content-Type", "application/json"), forwarded])
        ids = [("X-Pantau-Client", "cli-first-one"), ("X-Pantau-Client", "cli-second-one")]
        http.cookies.clear()
        api = await http.post(URL, json={"category": "app"}, headers=[*ids, forwarded])
        form = await http.post(URL, data={"category": "app"}, headers=[*ids, forwarded])
        http.cookies.clear()
        cookie = [("Cookie", 'pantau_cid="cli-quoted-1"'), forwarded]
        api_cookie = await http.post(URL, json={"category": "app"}, headers=cookie)
        form_cookie = await http.post(URL, data={"category": "app"}, headers=cookie)
    assert (first_json.status_code, first_other.status_code) == (202, 415)
    assert [r.status_code for r in (api, form, api_cookie, form_cookie)] == [202, 303, 202, 303]
    rows = await crowd_store.report_rows(T0, T0 + timedelta(hours=1))
    assert [r.reporter for r in rows[1:3]] == [rows[1].reporter] * 2
    assert [r.reporter for r in rows[3:5]] == [rows[3].reporter] * 2
    assert rows[1].reporter != rows[3].reporter


async def test_a_form_whose_escapes_are_not_utf8_is_refused(crowd_store: Store) -> None:
    app = make_app(crowd_store, FrozenClock(T0))
    form_type = {"Content-Type": "application/x-www-form-urlencoded"}
    async with client(app) as http:
        r = await http.post(URL, content=b"category=app&text=%FF%FEbad", headers=form_type)
    assert r.status_code == 400 and "could not be read" in r.text
    assert await _counted(crowd_store) == []


async def test_one_voice_holds_across_midnight_and_the_hashes_change_at_night(
    crowd_store: Store,
) -> None:
    # The stored hashes change with the day in PANTAU_CROWD_TIMEZONE (Jakarta): at
    # 17:00 UTC, when fewest people report, not at 07:00 in the morning. The gate's own
    # keys do not change at all, so one person at 23:55 and at 00:05 is one voice; the
    # repeat is stored with its voice's hashes, so that the rollup links the two.
    clock = FrozenClock(T0.replace(hour=16, minute=55))  # 23:55 WIB
    app = make_app(crowd_store, clock)
    headers = {"X-Pantau-Client": "cli-abcdefgh", "X-Forwarded-For": "203.0.113.5"}
    async with client(app) as http:
        for step in (0, 10, 31 + 6 * 60, 10):  # 23:55, 00:05, 06:56, 07:06 WIB
            clock.advance(step * 60)
            assert (await http.post(URL, json={"category": "app"}, headers=headers)
                    ).status_code == 202
    rows = await crowd_store.report_rows(T0, T0 + timedelta(days=1))
    assert [r.counted for r in rows] == [True, False, True, False]
    night, after, morning, later = (r.reporter for r in rows)
    assert night == after != morning == later
    assert rows[0].network == rows[1].network != rows[2].network


async def test_a_form_for_a_service_not_in_the_catalog_is_answered_with_a_page(
    crowd_store: Store,
) -> None:
    app = make_app(crowd_store, FrozenClock(T0))
    async with client(app) as http:
        r = await http.post("/api/v1/services/gone/reports", data={"category": "app"},
                            params={"lang": "id"})
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "Laporan tidak terkirim" in r.text and "tidak dikenal" in r.text


def _who(client_id: str, address: str = "203.0.113.5") -> dict[str, str]:
    return {"X-Pantau-Client": client_id, "X-Forwarded-For": address}


async def _post(app: FastAPI, headers: dict[str, str]) -> None:
    async with client(app) as http:
        assert (await http.post(URL, json={"category": "app"}, headers=headers)
                ).status_code == 202


async def test_a_restart_remembers_the_voices_of_the_last_half_hour(crowd_store: Store) -> None:
    # In one process's memory (no Redis) the gate started empty at every start, and each
    # reporter of the last half hour counted again.
    clock = FrozenClock(T0)
    before = make_app(crowd_store, clock, crowd_network_voices=2)
    await _post(before, _who("cli-first-1"))
    await _post(before, _who("cli-second"))  # the network's two voices are spent
    clock.advance(10 * 60)
    after = make_app(crowd_store, clock, crowd_network_voices=2)
    await open_endpoint(after.state)  # as the app's start does
    await _post(after, _who("cli-first-1"))
    await _post(after, _who("cli-third-1"))
    await _post(after, _who("cli-other-1", "198.51.100.7"))
    clock.advance(21 * 60)  # 31 minutes after the first voices: they are free again
    await _post(after, _who("cli-first-1"))
    assert await _counted(crowd_store) == [True, True, False, False, True, True]


async def test_a_restart_just_after_midnight_knows_the_voices_from_before_it(
    crowd_store: Store,
) -> None:
    # The voices recalled from the store carry the day before's hashes: at 00:05 a
    # restarted server knew nobody from 23:55, and each of them counted again.
    clock = FrozenClock(T0.replace(hour=16, minute=55))  # 23:55 WIB
    before = make_app(crowd_store, clock, crowd_network_voices=2)
    await _post(before, _who("cli-first-1"))
    await _post(before, _who("cli-second"))  # the network's two voices are spent
    clock.advance(10 * 60)  # 00:05 WIB
    after = make_app(crowd_store, clock, crowd_network_voices=2)
    await open_endpoint(after.state)
    await _post(after, _who("cli-first-1"))  # a repeat
    await _post(after, _who("cli-third-1"))  # its network has no voice left
    await _post(after, _who("cli-other-1", "198.51.100.7"))
    rows = await crowd_store.report_rows(T0, T0 + timedelta(days=1))
    assert [r.counted for r in rows] == [True, True, False, False, True]
    assert rows[2].reporter == rows[0].reporter  # stored with its voice, for the rollup
    assert rows[4].network != rows[0].network


async def test_every_problem_a_report_may_name_is_offered_and_named_in_both_languages(
    crowd_store: Store,
) -> None:
    # payments and messages were taken from the API and the CLI, but the page had no
    # words for them (it showed their bare codes, in English on the Indonesian page too)
    # and the form did not offer them.
    assert list(CATEGORY) == [c.value for c in Category]
    app = make_app(crowd_store, FrozenClock(T0))
    async with client(app) as http:
        for lang in ("en", "id"):
            page = (await http.get("/services/chatgpt", params={"lang": lang})).text
            for category in Category:
                label = CATEGORY[category.value].get(lang)
                assert f'name="category" value="{category.value}"' in page
                assert f"> {label}</label>" in page
    assert (CATEGORY["payments"].get("id"), CATEGORY["messages"].get("id")) == (
        "Pembayaran", "Pesan")


async def test_the_form_keeps_the_readers_language_without_cookies(crowd_store: Store) -> None:
    app = make_app(crowd_store, FrozenClock(T0))
    async with client(app) as http:
        page = (await http.get("/services/chatgpt", params={"lang": "id"})).text
        action = page.split('id="report-form"')[1].split('action="')[1].split('"')[0]
        http.cookies.clear()
        sent = await http.post(action, data={"category": "app"},
                               headers={"Accept-Language": "en"})
        http.cookies.clear()
        thanks = await http.get(sent.headers["location"], headers={"Accept-Language": "en"})
    assert action == "/api/v1/services/chatgpt/reports?lang=id"
    assert sent.status_code == 303 and "Terima kasih" in thanks.text


async def test_an_operators_own_site_may_send_reports_with_a_form(crowd_store: Store) -> None:
    # PANTAU_REPORT_ORIGINS: a form on the operator's status site posts to pantau.
    app = make_app(crowd_store, FrozenClock(T0),
                   report_origins="https://Status.Example.com, http://[::1]:8080")
    cross = {"Sec-Fetch-Site": "cross-site"}
    async with client(app) as http:
        ours = await http.post(URL, data={"category": "app"},
                               headers={**cross, "Origin": "https://status.example.com"})
        local = await http.post(URL, data={"category": "app"},
                                headers={"Origin": "http://[::1]:8080"})
        other = await http.post(URL, data={"category": "app"},
                                headers={**cross, "Origin": "https://evil.example"})
    assert (ours.status_code, local.status_code, other.status_code) == (303, 303, 403)


@pytest.mark.parametrize("bad", ["status.example.com", "https://status.example.com/",
                                 "https://status.example.com/report", "ftp://x"])
def test_report_origins_must_be_origins(bad: str) -> None:
    with pytest.raises(SettingsError, match="PANTAU_REPORT_ORIGINS"):
        load_settings(report_origins=bad)
