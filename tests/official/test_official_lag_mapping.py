from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import numpy as np
import pytest
from official_fixtures import rss, sp_summary, widget
from official_server import PageServer

from pantau.official.detect import detect, guess_kind
from pantau.official.errors import ErrorKind, PageError
from pantau.official.lag import LagSample, pair, summarise
from pantau.official.mapping import match_components
from pantau.official.model import Component, ComponentState, PageKind, PageSnapshot
from pantau.signals import OfficialPageState

T = datetime(2025, 1, 23, 12, 0, tzinfo=UTC)
M = timedelta(minutes=1)


def test_pair_matches_each_alarm_to_earliest_post_in_window() -> None:
    alarms = [T, T + 600 * M]
    posts = [T + 25 * M, T + 40 * M, T + 595 * M]
    samples = pair(alarms, posts, now=T + 2000 * M)
    assert [s.seconds for s in samples] == [1500.0, -300.0]


def test_pair_no_post_is_pending_then_never() -> None:
    (early,) = pair([T], [T + 7 * 60 * M], now=T + 30 * M)
    assert early.first_post_at is None and early.pending
    (late,) = pair([T], [], now=T + 7 * 60 * M)
    assert late.first_post_at is None and not late.pending


def test_one_post_never_answers_two_alarms() -> None:
    samples = pair([T, T + 5 * M], [T + 10 * M], now=T + 10000 * M)
    assert [s.first_post_at for s in samples] == [T + 10 * M, None]


def test_summary_figures() -> None:
    samples = [
        LagSample(T, T + 10 * M),
        LagSample(T, T + 30 * M),
        LagSample(T, T - 5 * M),
        LagSample(T, None),
        LagSample(T, None, pending=True),
    ]
    s = summarise("status.example", samples)
    assert (s.incidents, s.admitted, s.never_admitted, s.pending, s.admitted_first) == (
        5,
        3,
        1,
        1,
        1,
    )
    assert s.median_s == 600.0 and s.worst_s == 1800.0
    assert s.mean_s == pytest.approx((600 + 1800 - 300) / 3)
    assert s.p90_s == pytest.approx(1560.0)
    empty = summarise("v", [])
    assert empty.median_s is None and empty.incidents == 0


@pytest.mark.parametrize("minutes", [[7], [-5, 30], [10, 30, -5, 0], list(range(0, 100, 7))])
def test_p90_interpolates_between_the_nearest_lags_as_numpy_does(minutes: list[int]) -> None:
    s = summarise("v", [LagSample(T, T + m * M) for m in minutes])
    assert s.p90_s == pytest.approx(float(np.percentile([m * 60 for m in minutes], 90)))
    assert s.median_s == pytest.approx(float(np.percentile([m * 60 for m in minutes], 50)))


COMPONENTS = (
    Component("1", "ChatGPT", ComponentState.MAJOR_OUTAGE),
    Component("2", "API", ComponentState.DEGRADED),
    Component("3", "Sora", ComponentState.OPERATIONAL),
    Component("4", "Email delivery", ComponentState.OPERATIONAL),
)


def test_components_match_names_aliases_hosts_and_api() -> None:
    assert match_components(COMPONENTS, name="ChatGPT", aliases=["chat gpt"]) == ("ChatGPT",)
    assert match_components(
        COMPONENTS,
        name="OpenAI API",
        aliases=["ai"],
        endpoint_urls=["https://api.openai.com/v1/models"],
        endpoint_kinds=["api"],
    ) == ("API",)  # word-bounded: "ai" does not claim "Email delivery"
    assert match_components(COMPONENTS, name="Gmail") is None
    assert match_components(COMPONENTS, name="x", explicit=["Sora", "Gone"]) == ("Sora",)


def test_service_view_uses_its_components_only() -> None:
    snap = PageSnapshot(
        PageKind.STATUSPAGE, "u", T, OfficialPageState.MAJOR_OUTAGE, components=COMPONENTS
    )
    assert snap.to_signal("sora", components=["Sora"]).page_state is OfficialPageState.OPERATIONAL
    assert snap.to_signal("api", components=["API"]).page_state is OfficialPageState.DEGRADED
    assert snap.to_signal("all").page_state is OfficialPageState.MAJOR_OUTAGE


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("https://status.example.com/history.rss", PageKind.FEED),
        ("https://status.example.com/feed.atom", PageKind.FEED),
        ("https://status.example.com/api/v2/summary.json", PageKind.STATUSPAGE),
        ("https://status.example.com/proxy/status.example.com", PageKind.INCIDENTIO),
        ("https://status.example.com/", None),
    ],
)
def test_guess_kind_from_url(url: str, kind: PageKind | None) -> None:
    assert guess_kind(url) is kind


async def test_detect_asks_the_page(page_server: PageServer) -> None:
    async with httpx.AsyncClient() as client:
        page_server.json("/api/v2/summary.json", sp_summary())
        assert await detect(client, page_server.base) == (PageKind.STATUSPAGE, page_server.base)
        page_server.json("/proxy/127.0.0.1", widget())
        assert await detect(client, page_server.base) == (PageKind.INCIDENTIO, page_server.base)
        page_server.routes.clear()
        page_server.raw(
            "/",
            b'<html><head><link rel="alternate" '
            b'type="application/rss+xml" href="/history.rss"></head></html>',
            content_type="text/html",
        )
        assert await detect(client, page_server.base + "/") == (
            PageKind.FEED,
            page_server.base + "/history.rss",
        )
        page_server.raw("/feed", rss([]), content_type="application/rss+xml")
        page_server.raw("/", rss([]), content_type="application/rss+xml")
        assert await detect(client, page_server.base + "/") == (
            PageKind.FEED,
            page_server.base + "/",
        )
        page_server.raw("/", b"<html>hello</html>", content_type="text/html")
        with pytest.raises(PageError) as caught:
            await detect(client, page_server.base + "/")
        assert caught.value.kind is ErrorKind.UNSUPPORTED
        # A failing page is reported as failing, not as "not a status page".
        page_server.json("/api/v2/summary.json", {}, status=503)
        with pytest.raises(PageError) as caught:
            await detect(client, page_server.base + "/")
        assert caught.value.status == 503
