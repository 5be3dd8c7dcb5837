"""The home and service pages served again for a few seconds, over a real app and store."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient
from incident_app import chatgpt_outage
from incident_factories import minute

from pantau.catalog import Catalog
from pantau.clock import FrozenClock
from pantau.runtime import Runtime
from pantau.settings import load_settings
from pantau.store import Store
from pantau.web.app import create_app
from pantau.web.page_cache import PageCache


def _app(url: str, seconds: float) -> TestClient:
    store = Store(url)
    store.migrate()
    settings = load_settings(database=url, page_cache_seconds=seconds)
    runtime = Runtime(settings=settings, store=store, catalog=Catalog.default(),
                      clock=FrozenClock(minute(5)))
    return TestClient(create_app(runtime))


def test_pages_are_served_again_until_they_are_a_few_seconds_old(sqlite_url: str) -> None:
    with _app(sqlite_url, seconds=1.0) as client:
        before = {path: client.get(path).text for path in ("/services/chatgpt?lang=en", "/")}
        assert "ChatGPT" in before["/"]
        client.portal.call(chatgpt_outage, client.app.state.store)  # type: ignore[attr-defined,union-attr]
        # The outage is stored, the pages kept from before it are served for a second.
        for path, text in before.items():
            assert client.get(path).text == text
        # Another language, another zone or a search is another page, rendered anew.
        assert "Bad gateway Error code 502" in client.get("/services/chatgpt?lang=id").text
        assert "Bad gateway Error code 502" in client.get(
            "/services/chatgpt?lang=en&tz=Asia/Makassar").text
        assert client.get("/?q=cha").text != before["/"]
        time.sleep(1.1)
        assert "Bad gateway Error code 502" in client.get("/services/chatgpt?lang=en").text
        assert client.get("/").text != before["/"]


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
        client.portal.call(chatgpt_outage, client.app.state.store)  # type: ignore[attr-defined,union-attr]
        assert "Bad gateway Error code 502" in client.get("/services/chatgpt?lang=en").text


def test_the_cache_keeps_its_size_dropping_the_least_recently_asked() -> None:
    cache = PageCache(seconds=60.0, size=2)
    cache.put("a", b"A")
    cache.put("b", b"B")
    assert cache.get("a") == b"A"  # now "b" is the least recently asked
    cache.put("c", b"C")
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (b"A", None, b"C")
