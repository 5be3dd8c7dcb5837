"""The verdict API, SSE stream and HTML pages over a real app and a real SQLite store."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from incident_app import chatgpt_outage, runtime
from incident_factories import all_ok, cf_502, crowd, minute

from pantau.clock import FrozenClock
from pantau.incidents.engine import FusionEngine, ServiceInput
from pantau.official.model import Incident as OfficialIncident
from pantau.official.model import PageKind, PageSnapshot
from pantau.settings import load_settings
from pantau.signals import CrowdState, OfficialPageState
from pantau.web.app import create_app


@pytest.fixture
def client(sqlite_url: str) -> Iterator[TestClient]:
    clock = FrozenClock(minute(5))
    rt = runtime(sqlite_url, clock)
    with TestClient(create_app(rt)) as test_client:
        test_client.portal.call(chatgpt_outage, rt.store)  # type: ignore[union-attr]
        yield test_client


def test_status_api(client: TestClient) -> None:
    body: dict[str, Any] = client.get("/api/v1/services/chatgpt/status").json()
    assert (body["state"], body["layer"], body["scope"]) == ("outage", "origin", "everyone")
    assert body["verdict"]["en"].startswith(
        "ChatGPT is down for everyone since 18:33 WIB; the server behind Cloudflare is not "
        "answering; it is not your connection")
    assert "sejak 18.33 WIB" in body["verdict"]["id"]
    assert body["incident"]["id"] == "chatgpt-20250123-1133"
    assert body["incident"]["official_ack_at"].startswith("2025-01-23T11:35")
    # The official page has not been polled in this test, so there is nothing to follow.
    assert [a["kind"] for a in body["advice"]] == ["wait"]
    assert body["probes"]["failing_vantages"] == 4
    utc = client.get("/api/v1/services/chatgpt/status", params={"tz": "UTC"}).json()
    assert "since 11:33 UTC" in utc["verdict"]["en"]
    assert client.get("/api/v1/services/discord/status").json()["state"] == "unknown"
    assert client.get("/api/v1/services/nope/status").status_code == 404


def test_incidents_api(client: TestClient) -> None:
    listed = client.get("/api/v1/incidents").json()
    assert [i["id"] for i in listed] == ["chatgpt-20250123-1133"]
    assert client.get("/api/v1/incidents", params={"state": "resolved"}).json() == []
    one = client.get("/api/v1/incidents/chatgpt-20250123-1133").json()
    assert [e["kind"] for e in one["events"]] == ["opened", "official"]
    assert client.get("/api/v1/incidents/none").status_code == 404
    assert client.get("/api/v1/incidents", params={"service": "nope"}).status_code == 404


def test_service_page_in_both_languages(client: TestClient) -> None:
    en = client.get("/services/chatgpt", params={"lang": "en", "tz": "Asia/Jakarta"})
    assert en.status_code == 200
    html = en.text
    assert '<html lang="en">' in html
    assert "ChatGPT is down for everyone since 18:33 WIB" in html
    assert "<svg" in html and "Problem reports in the last 24 hours" in html
    assert 'id="top-problems"' in html and "67 %" in html  # website 120 of 180
    assert "Bad gateway Error code 502" in html
    assert 'id="probe-matrix"' in html and "Working" in html and "Error" in html
    summary = html.split('id="summary-boxes"', 1)[1].split("</ul>", 1)[0]
    assert [part.split("</strong>")[0] for part in summary.split("<strong>")[1:]] == [
        "You", "CDN", "Host", "Crowd"]
    assert "box-ok" in summary.split("CDN")[0] and "60 reports a minute" in summary
    assert summary.count("box-bad") == 2  # the Host box and the crowd
    assert 'action="/api/v1/services/chatgpt/reports?lang=en"' in html
    assert len(en.content) < 100_000
    # Links may leave the site; nothing the page loads may come from elsewhere.
    assert 'src="http' not in html and 'stylesheet" href="http' not in html
    idn = client.get("/services/chatgpt", params={"lang": "id"}).text
    assert '<html lang="id">' in idn and "ChatGPT sedang down untuk semua orang sejak 18.33 WIB" \
        in idn
    assert "Situs web" in idn
    # What the report form's script says when no answer comes, in the reader's words.
    assert "pantau tidak dapat dihubungi" in idn and "pantau could not be reached" in html
    # "checked" in the verdict's words, which the live updates repeat (the status API's).
    status = client.get("/api/v1/services/chatgpt/status", params={"tz": "Asia/Jakarta"}).json()
    assert status["checked"] == {"en": "18:35 WIB", "id": "18.35 WIB"}
    assert '<span id="checked" data-at="2025-01-23T11:35:00+00:00">18.35 WIB</span>' in idn


def test_incident_and_history_pages(client: TestClient) -> None:
    page = client.get("/incidents/chatgpt-20250123-1133", params={"lang": "en"})
    assert page.status_code == 200 and "ChatGPT outage" in page.text
    assert "Elevated errors on ChatGPT" in page.text
    assert client.get("/incidents/nope").status_code == 404
    history = client.get("/history", params={"service": "chatgpt", "lang": "id"})
    assert "Gangguan ChatGPT" in history.text


def test_sse_stream_sends_the_current_status(client: TestClient) -> None:
    with client.stream("GET", "/api/v1/services/chatgpt/events") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = []
        for line in stream.iter_lines():
            lines.append(line)
            if line.startswith("data: "):
                break
    assert "event: status" in lines
    assert '"state":"outage"' in lines[-1]


def test_home_page_shows_problems_and_searches(client: TestClient) -> None:
    home = client.get("/", params={"lang": "en"})
    assert home.status_code == 200
    problems = home.text.split('id="now-h"', 1)[1].split("</section>", 1)[0]
    assert 'href="/services/chatgpt"' in problems and "down" in problems
    assert 'href="/incidents/chatgpt-20250123-1133"' in home.text
    assert 'placeholder="Is ChatGPT down?"' in home.text
    found = client.get("/", params={"q": "openai"}, follow_redirects=False)
    assert (found.status_code, found.headers["location"]) == (303, "/services/chatgpt")
    idn = client.get("/", params={"lang": "id"}).text
    assert "Gangguan saat ini" in idn and "Apakah ChatGPT sedang down?" in idn


async def _official_page(store: Any) -> None:
    said = OfficialIncident(id="inc-1", title="Elevated errors on ChatGPT",
                            status="identified", created_at=minute(4), updated_at=minute(5))
    snap = PageSnapshot(kind=PageKind.INCIDENTIO, url="https://status.openai.com/",
                        fetched_at=minute(5), state=OfficialPageState.PARTIAL_OUTAGE,
                        incidents=(said,))
    await store.official_record_poll(snap.url, snap.kind, minute(5), snap)


def test_service_page_says_the_official_page_in_the_readers_language(
        client: TestClient) -> None:
    store = client.app.state.store  # type: ignore[attr-defined]
    client.portal.call(_official_page, store)  # type: ignore[union-attr]
    section = client.get("/services/chatgpt", params={"lang": "id"}).text
    section = section.split('id="official-h"', 1)[1].split("</section>", 1)[0]
    assert "gangguan sebagian" in section and "penyebab ditemukan" in section
    assert "partial_outage" not in section and "identified" not in section


async def _regional(store: Any) -> None:
    engine = FusionEngine()
    at = minute(5)
    c = crowd(at, CrowdState.DETECTED, 30, regions={"ID-JI": 28, "ID-JK": 2},
              service="whatsapp")
    m = engine.step(at, [ServiceInput("whatsapp", "WhatsApp", None, c,
                                      all_ok(at, service="whatsapp"))])
    await store.save_fusion(m.at, list(m.assessments.values()), dict(m.incidents), m.changed,
                            m.events)


def test_home_lists_a_regional_problem(client: TestClient) -> None:
    store = client.app.state.store  # type: ignore[attr-defined]
    client.portal.call(_regional, store)  # type: ignore[union-attr]
    problems = client.get("/", params={"lang": "en"}).text.split('id="now-h"', 1)[1]
    problems = problems.split("</section>", 1)[0]
    assert 'href="/services/whatsapp"' in problems and "ID-JI" in problems
    body = client.get("/api/v1/services/whatsapp/status").json()
    assert (body["state"], body["layer"], body["scope"]) == ("operational", "client", "region")
    assert body["verdict"]["en"].startswith("WhatsApp works, but people in Jawa Timur (ID-JI) "
                                            "report problems")
    assert body["verdict"]["id"].startswith("WhatsApp berjalan, tetapi orang di Jawa Timur "
                                            "(ID-JI) melaporkan masalah")
    page = client.get("/services/whatsapp", params={"lang": "id"}).text
    regions = page.split('id="regions"', 1)[1].split("</ul>", 1)[0]
    assert "Jawa Timur" in regions and "Jakarta Raya" in regions
    # The form offers the provinces by name and still takes a typed code.
    form = page.split('id="report-form"', 1)[1].split("</form>", 1)[0]
    assert '<option value="ID-JK">Jakarta Raya</option>' in form
    assert 'list="report-regions"' in form and "Pilih provinsi" in form
    assert [a["kind"] for a in body["advice"]] == ["check_connection"]


def test_two_apps_in_one_process_do_not_share_charts(tmp_path: Path) -> None:
    # Same service, same minute, no incident in either: only the stored texts differ.
    # The chart cache used to be one per process, keyed without the store.
    async def fuse(store: Any, texts: dict[str, int]) -> None:
        engine = FusionEngine()
        for n in range(6):
            c = crowd(minute(n), CrowdState.NORMAL, 2, texts=texts)
            m = engine.step(minute(n), [ServiceInput("chatgpt", "ChatGPT", "cloudflare", c,
                                                     all_ok(minute(n)))])
            await store.save_fusion(m.at, list(m.assessments.values()), dict(m.incidents),
                                    m.changed, m.events)

    pages = []
    for name, texts in (("a", {"Error seen only in app a": 2}), ("b", {})):
        rt = runtime(f"sqlite:///{tmp_path}/{name}.db", FrozenClock(minute(5)))
        with TestClient(create_app(rt)) as app_client:
            app_client.portal.call(fuse, rt.store, texts)  # type: ignore[union-attr]
            pages.append(app_client.get("/services/chatgpt").text)
    assert "Error seen only in app a" in pages[0]
    assert "Error seen only in app a" not in pages[1]


def test_status_api_times_default_to_the_operators_zone(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/zone.db"
    rt = runtime(url, FrozenClock(minute(5)))
    rt.settings = load_settings(database=url, default_timezone_id="Asia/Makassar")
    with TestClient(create_app(rt)) as app_client:
        app_client.portal.call(chatgpt_outage, rt.store)  # type: ignore[union-attr]
        body = app_client.get("/api/v1/services/chatgpt/status").json()
    assert "since 19:33 WITA" in body["verdict"]["en"]


def test_the_incidents_api_filters_by_state_before_the_limit(sqlite_url: str) -> None:
    # Discord's outage ended; ChatGPT's, newer, is open: asked for one resolved incident,
    # the API took the newest one first and then filtered it away.
    def inputs(n: int, at: datetime) -> list[ServiceInput]:
        return [
            ServiceInput("discord", "Discord", "cloudflare", crowd(at, service="discord"),
                         cf_502(at, service="discord") if 2 <= n < 8
                         else all_ok(at, "discord"), None),
            ServiceInput("chatgpt", "ChatGPT", "cloudflare", crowd(at),
                         cf_502(at) if n >= 20 else all_ok(at), None),
        ]

    rt = runtime(sqlite_url, FrozenClock(minute(30)))
    with TestClient(create_app(rt)) as client:
        client.portal.call(_fused, rt.store, inputs, 30)  # type: ignore[union-attr]
        newest = client.get("/api/v1/incidents", params={"limit": 1}).json()
        resolved = client.get("/api/v1/incidents", params={"state": "resolved", "limit": 1})
        still = client.get("/api/v1/incidents", params={"state": "open", "limit": 1}).json()
    assert [i["service"] for i in newest] == ["chatgpt"]
    assert [i["service"] for i in resolved.json()] == ["discord"]
    assert [i["service"] for i in still] == ["chatgpt"]


def test_a_language_pantau_does_not_have_leaves_the_readers_choice(client: TestClient) -> None:
    client.cookies.set("pantau_lang", "id")
    page = client.get("/services/chatgpt", params={"lang": "fr"},
                      headers={"Accept-Language": "en"})
    assert '<html lang="id">' in page.text
    assert "set-cookie" not in page.headers or "pantau_lang" not in page.headers["set-cookie"]


def test_a_resolved_incidents_page_tells_its_worst_phase_as_past(sqlite_url: str) -> None:
    # Read after the outage, "people reported problems in the last minute" was not true.
    def inputs(n: int, at: datetime) -> list[ServiceInput]:
        bad = 2 <= n < 8
        return [ServiceInput(
            "chatgpt", "ChatGPT", "cloudflare",
            crowd(at, CrowdState.DETECTED if bad else CrowdState.NORMAL, 60 if bad else 2),
            cf_502(at) if bad else all_ok(at), None)]

    rt = runtime(sqlite_url, FrozenClock(minute(30)))
    with TestClient(create_app(rt)) as client:
        client.portal.call(_fused, rt.store, inputs, 30)  # type: ignore[union-attr]
        (listed,) = client.get("/api/v1/incidents", params={"state": "resolved"}).json()
        en = client.get(f"/incidents/{listed['id']}", params={"lang": "en"}).text
        idn = client.get(f"/incidents/{listed['id']}", params={"lang": "id"}).text
    assert "<h2 id=\"evidence-h\">At its worst</h2>" in en
    assert "60 people reported problems in one minute (about 3.0 expected)" in en
    assert "last minute" not in en
    assert "Saat terparah" in idn and "60 orang melaporkan masalah dalam satu menit (" in idn
    assert "terakhir" not in idn.split("evidence-h", 1)[1].split("</ul>", 1)[0]


def test_an_open_incidents_page_tells_what_we_see(client: TestClient) -> None:
    page = client.get("/incidents/chatgpt-20250123-1133", params={"lang": "id"}).text
    assert "<h2 id=\"evidence-h\">Yang kami lihat</h2>" in page


def test_an_open_incident_past_its_worst_tells_its_worst_so_far(sqlite_url: str) -> None:
    # Down from minute 2, then only partly working from minute 8 (the crowd still up,
    # the probes fine): the evidence kept is the outage's, which is no longer what we see.
    def inputs(n: int, at: datetime) -> list[ServiceInput]:
        return [ServiceInput(
            "chatgpt", "ChatGPT", "cloudflare",
            crowd(at, CrowdState.DETECTED if n >= 2 else CrowdState.NORMAL,
                  60 if n >= 2 else 2),
            cf_502(at) if 2 <= n < 8 else all_ok(at), None)]

    rt = runtime(sqlite_url, FrozenClock(minute(12)))
    with TestClient(create_app(rt)) as client:
        client.portal.call(_fused, rt.store, inputs, 12)  # type: ignore[union-attr]
        (listed,) = client.get("/api/v1/incidents", params={"state": "open"}).json()
        assert listed["state"] != listed["worst_state"] == "outage"
        en = client.get(f"/incidents/{listed['id']}", params={"lang": "en"}).text
        idn = client.get(f"/incidents/{listed['id']}", params={"lang": "id"}).text
    assert "<h2 id=\"evidence-h\">Worst so far</h2>" in en
    assert "<h2 id=\"evidence-h\">Terparah sejauh ini</h2>" in idn


async def _fused(store: Any, inputs: Callable[[int, datetime], list[ServiceInput]],
                 minutes: int) -> None:
    """Fuse and save `minutes` minutes from minute(0), each minute's inputs from `inputs`."""
    engine = FusionEngine()
    for n in range(minutes):
        at = minute(n)
        moved = engine.step(at, inputs(n, at))
        await store.save_fusion(at, list(moved.assessments.values()), dict(moved.incidents),
                                moved.changed, moved.events)
