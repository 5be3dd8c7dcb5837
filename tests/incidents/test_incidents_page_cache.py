"""The home and service pages served again for a few seconds, over a real app and store."""

from __future__ import annotations

import asyncio

import pytest
from fastapi.responses import HTMLResponse
from fastapi.testclient import TestClient
from incident_app import chatgpt_outage
from incident_factories import minute

from pantau.catalog import Catalog
from pantau.clock import FrozenClock
from pantau.runtime import Runtime
from pantau.settings import load_settings
from pantau.store import Store
from pantau.web.app import create_app
from pantau.web.page_cache import INDONESIA, Kept, PageCache

OUTAGE_TEXT = "Bad gateway Error code 502"


class _Ticks:
    """The cache's clock, moved by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _app(url: str, seconds: float, ticks: _Ticks | None = None) -> TestClient:
    store = Store(url)
    store.migrate()
    settings = load_settings(database=url, page_cache_seconds=seconds)
    runtime = Runtime(settings=settings, store=store, catalog=Catalog.default(),
                      clock=FrozenClock(minute(5)))
    app = create_app(runtime)
    if ticks is not None:
        zones = frozenset(("UTC", *INDONESIA))
        app.state.page_cache = PageCache(seconds, zones, clock=ticks)
    return TestClient(app)


def _store_the_outage(client: TestClient) -> None:
    client.portal.call(chatgpt_outage, client.app.state.store)  # type: ignore[attr-defined,union-attr]


def test_pages_are_served_again_until_they_are_a_few_seconds_old(sqlite_url: str) -> None:
    ticks = _Ticks()
    with _app(sqlite_url, 5.0, ticks) as client:
        paths = ("/services/chatgpt?lang=en", "/", "/?q=a")
        before = {path: client.get(path).text for path in paths}
        assert "ChatGPT" in before["/"]
        _store_the_outage(client)
        ticks.now = 4.9
        # The outage is stored; the pages kept from before it are served until 5 s old.
        again = client.get("/services/chatgpt?lang=en")
        assert again.text == before["/services/chatgpt?lang=en"]
        assert again.headers["age"] == "4"
        assert client.get("/").text == before["/"]
        # A search is not kept; another language, or another kept zone, is another page.
        assert client.get("/?q=a").text != before["/?q=a"]
        assert OUTAGE_TEXT in client.get("/services/chatgpt?lang=id").text
        assert OUTAGE_TEXT in client.get("/services/chatgpt?lang=en&tz=Asia/Makassar").text
        ticks.now = 5.0
        assert OUTAGE_TEXT in client.get("/services/chatgpt?lang=en").text
        assert client.get("/").text != before["/"]


def test_the_status_api_is_answered_again_like_the_pages(sqlite_url: str) -> None:
    ticks = _Ticks()
    status = "/api/v1/services/chatgpt/status"
    with _app(sqlite_url, 5.0, ticks) as client:
        before = client.get(status)
        assert before.json()["state"] == "unknown"
        client.get(status, params={"tz": "America/Lima"})
        _store_the_outage(client)
        ticks.now = 4.9
        kept = client.get(status)
        assert (kept.content, kept.headers["content-type"]) == (before.content,
                                                                 "application/json")
        # A CDN may keep it for max-age less the 4 s it has been kept here already.
        assert (kept.headers["cache-control"], kept.headers["age"]) == ("public, max-age=5", "4")
        assert "age" not in before.headers
        # Another kept zone is another answer; a zone few readers ask for is not kept.
        assert client.get(status, params={"tz": "UTC"}).json()["state"] == "outage"
        assert client.get(status, params={"tz": "America/Lima"}).json()["state"] == "outage"
        ticks.now = 5.0
        assert client.get(status).json()["state"] == "outage"


def test_a_page_in_a_zone_few_readers_have_is_rendered_for_its_request(
    sqlite_url: str,
) -> None:
    ticks = _Ticks()
    with _app(sqlite_url, 5.0, ticks) as client:
        # Requests naming many zones do not fill the cache (or push out the pages kept).
        client.get("/services/chatgpt?lang=en&tz=America/Lima")
        _store_the_outage(client)
        assert OUTAGE_TEXT in client.get("/services/chatgpt?lang=en&tz=America/Lima").text


def test_a_kept_page_still_remembers_the_readers_choice(sqlite_url: str) -> None:
    with _app(sqlite_url, seconds=60.0) as client:
        client.get("/services/chatgpt?lang=en")
        client.cookies.clear()
        again = client.get("/services/chatgpt?lang=en&tz=UTC")
        assert again.headers["content-type"] == "text/html; charset=utf-8"
        cookies = again.headers.get_list("set-cookie")
        assert any(c.startswith("pantau_lang=en;") for c in cookies)
        assert any(c.startswith("pantau_tz=UTC;") for c in cookies)
        # With the cookies alone (no choice in the URL), the same page, nothing set.
        repeat = client.get("/services/chatgpt")
        assert repeat.text == again.text
        assert "set-cookie" not in repeat.headers


def test_no_page_is_kept_with_zero_seconds(sqlite_url: str) -> None:
    with _app(sqlite_url, seconds=0.0) as client:
        client.get("/services/chatgpt?lang=en")
        _store_the_outage(client)
        assert OUTAGE_TEXT in client.get("/services/chatgpt?lang=en").text


@pytest.mark.parametrize(("seconds", "header"), [(5.0, "public, max-age=5"), (0.0, "no-cache")])
def test_answers_about_the_current_state_may_be_kept_by_a_cdn_as_long(
    sqlite_url: str, seconds: float, header: str
) -> None:
    with _app(sqlite_url, seconds) as client:
        _store_the_outage(client)
        for path in ("/api/v1/services/chatgpt/status", "/api/v1/services/chatgpt/crowd",
                     "/api/v1/services/chatgpt/official", "/api/v1/incidents",
                     "/api/v1/incidents/chatgpt-20250123-1133"):
            answer = client.get(path)
            assert (answer.status_code, answer.headers["cache-control"]) == (200, header), path
        # Refusals are not for keeping, and the live stream never is.
        assert "cache-control" not in client.get("/api/v1/services/nope/status").headers
        assert "cache-control" not in client.get("/api/v1/incidents/none").headers
        with client.stream("GET", "/api/v1/services/chatgpt/events") as stream:
            assert stream.headers["cache-control"] == "no-store"


class _SlowPage:
    """A rendering that takes 50 ms (the first one failing, if told to)."""

    def __init__(self, first_fails: bool = False) -> None:
        self.calls = 0
        self.started = asyncio.Event()
        self.first_fails = first_fails

    async def __call__(self) -> HTMLResponse:
        self.calls += 1
        self.started.set()
        await asyncio.sleep(0.05)
        if self.first_fails and self.calls == 1:
            raise RuntimeError("the database went away")
        return HTMLResponse(f"page {self.calls}")


async def test_readers_asking_while_a_page_is_made_wait_for_that_rendering() -> None:
    cache, make = PageCache(5.0, frozenset(), clock=_Ticks()), _SlowPage()
    first = asyncio.create_task(cache.page("k", make))
    await make.started.wait()
    others = await asyncio.gather(*(cache.page("k", make) for _ in range(3)))
    rendered, _ = await first
    assert make.calls == 1
    assert rendered is not None and rendered.body == b"page 1"
    assert others == [(None, Kept(b"page 1", 0.0))] * 3


async def test_when_a_rendering_fails_the_readers_waiting_render_it_themselves() -> None:
    cache, make = PageCache(5.0, frozenset(), clock=_Ticks()), _SlowPage(first_fails=True)
    first = asyncio.create_task(cache.page("k", make))
    await make.started.wait()
    waiting = asyncio.create_task(cache.page("k", make))
    with pytest.raises(RuntimeError):
        await first
    rendered, kept = await waiting
    assert rendered is not None and rendered.body == b"page 2" and kept is None
    assert make.calls == 2


def test_the_cache_keeps_its_size_dropping_the_least_recently_asked() -> None:
    cache = PageCache(seconds=60.0, zones=frozenset(), size=2, clock=_Ticks())
    cache.put("a", b"A")
    cache.put("b", b"B")
    assert cache.get("a") == (b"A", 0.0)  # now "b" is the least recently asked
    cache.put("c", b"C")
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == ((b"A", 0.0), None, (b"C", 0.0))
