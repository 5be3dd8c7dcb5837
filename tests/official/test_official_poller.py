"""Polling real loopback servers: conditional requests, fallbacks, failures, staleness."""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime

import httpx
import pytest
from official_fixtures import rss, sp_incident, sp_summary, widget, widget_incident
from official_server import PageServer

from pantau.clock import FrozenClock
from pantau.official.detect import ADAPTERS
from pantau.official.errors import ErrorKind
from pantau.official.model import PageKind, PagePart
from pantau.official.poller import PagePoller, next_delay
from pantau.official.sources import Variant
from pantau.signals import OfficialPageState

T0 = datetime(2025, 1, 23, 12, 0, tzinfo=UTC)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as c:
        yield c


def poller(url: str, kind: PageKind, client: httpx.AsyncClient, **kw: object) -> PagePoller:
    return PagePoller(url, ADAPTERS[kind], client, FrozenClock(T0), **kw)  # type: ignore[arg-type]


async def test_not_modified_costs_no_parsing(
    page_server: PageServer, client: httpx.AsyncClient
) -> None:
    page_server.json("/api/v2/summary.json", sp_summary())
    calls: list[str] = []
    real = ADAPTERS[PageKind.STATUSPAGE].variants(page_server.base)[0]

    def counting(parse: object) -> object:
        def wrapped(url: str, body: bytes) -> PagePart:
            calls.append(url)
            return parse(url, body)  # type: ignore[operator, no-any-return]

        return wrapped

    class Counting:
        kind = PageKind.STATUSPAGE

        def variants(self, page_url: str) -> tuple[Variant, ...]:
            docs = tuple(replace(d, parse=counting(d.parse)) for d in real.documents)  # type: ignore[arg-type]
            return (Variant(real.name, docs),)

    clock = FrozenClock(T0)
    p = PagePoller(page_server.base, Counting(), client, clock)
    first = await p.poll()
    assert first.parsed == 1 and calls == [page_server.base + "/api/v2/summary.json"]
    clock.advance(60)
    second = await p.poll()
    assert second.not_modified and second.parsed == 0
    assert calls == [page_server.base + "/api/v2/summary.json"]  # no parse the second time
    assert page_server.not_modified == 1
    assert second.snapshot is not None and first.snapshot is not None
    assert second.snapshot.fetched_at == T0.replace(minute=1)
    assert second.snapshot.components is first.snapshot.components  # the very same objects
    # A changed page is parsed again.
    page_server.json("/api/v2/summary.json", sp_summary("minor", api="degraded_performance"))
    third = await p.poll()
    assert third.parsed == 1 and len(calls) == 2
    assert third.snapshot is not None and third.snapshot.state is OfficialPageState.DEGRADED


async def test_statuspage_history_documents_are_optional(
    page_server: PageServer, client: httpx.AsyncClient
) -> None:
    page_server.json("/api/v2/summary.json", sp_summary("major", incidents=[sp_incident()]))
    page_server.json(
        "/api/v2/incidents.json",
        {
            "page": {"name": "OpenAI"},
            "incidents": [
                sp_incident(
                    "old", status="resolved", updates=[("o1", "resolved", "2025-01-01T00:00:00Z")]
                )
            ],
        },
    )
    result = await poller(page_server.base, PageKind.STATUSPAGE, client).poll()
    assert result.error is None and result.snapshot is not None
    assert {i.id for i in result.snapshot.incidents} == {"inc1", "old"}
    assert [i.id for i in result.snapshot.open_incidents] == ["inc1"]


async def test_incidentio_widget_first_then_compatible_json(
    page_server: PageServer, client: httpx.AsyncClient
) -> None:
    page_server.json("/proxy/127.0.0.1", widget(incidents=[widget_incident()]))
    page_server.json("/api/v2/summary.json", sp_summary())
    p = poller(page_server.base, PageKind.INCIDENTIO, client)
    result = await p.poll()
    assert result.snapshot is not None
    assert result.snapshot.state is OfficialPageState.MAJOR_OUTAGE  # from the widget
    assert page_server.hits.get("/api/v2/summary.json") is None
    # The widget breaks: the compatible JSON takes over without an error.
    page_server.raw("/proxy/127.0.0.1", b"<html>oops</html>", content_type="text/html")
    result = await p.poll()
    assert result.error is None and result.snapshot is not None
    assert result.snapshot.state is OfficialPageState.OPERATIONAL
    assert page_server.hits["/api/v2/summary.json"] == 1


@pytest.mark.parametrize(
    ("setup", "kind", "words"),
    [
        (lambda s: s.json("/api/v2/summary.json", {}, status=500), ErrorKind.HTTP, "HTTP 500"),
        (lambda s: s.raw("/api/v2/summary.json", b'{"page": {"na'), ErrorKind.TRUNCATED, "cut off"),
        (
            lambda s: s.raw(
                "/api/v2/summary.json", json.dumps(sp_summary()).encode()[:50], truncate=True
            ),
            ErrorKind.TRUNCATED,
            "cut off",
        ),
        (
            lambda s: s.raw("/api/v2/summary.json", b"[1, 2]"),
            ErrorKind.MALFORMED,
            "not in the expected format",
        ),
        (
            lambda s: s.json("/api/v2/summary.json", sp_summary(), delay=1.0),
            ErrorKind.TIMEOUT,
            "did not answer within 0.2 s",
        ),
        (
            # Each byte arrives well within the read timeout; the whole never does.
            lambda s: s.raw("/api/v2/summary.json", b'{"page": {"name": "x"}}', drip=0.05),
            ErrorKind.TIMEOUT,
            "did not answer within 0.2 s",
        ),
    ],
    ids=["500", "truncated-json", "connection-cut", "malformed", "slow", "dripping"],
)
async def test_failures_keep_last_state_marked_stale(
    page_server: PageServer,
    client: httpx.AsyncClient,
    setup: object,
    kind: ErrorKind,
    words: str,
) -> None:
    page_server.json("/api/v2/summary.json", sp_summary("critical", chatgpt="major_outage"))
    p = poller(page_server.base, PageKind.STATUSPAGE, client, timeout=0.2)
    good = await p.poll()
    assert good.snapshot is not None and not good.snapshot.stale
    setup(page_server)  # type: ignore[operator]
    bad = await p.poll()
    assert bad.error is not None and bad.error.kind is kind
    assert words in bad.error.message
    assert bad.snapshot is not None and bad.snapshot.stale
    assert bad.snapshot.state is OfficialPageState.MAJOR_OUTAGE  # last known state kept
    assert bad.snapshot.error == bad.error.message
    assert p.failures == 1
    page_server.json("/api/v2/summary.json", sp_summary())
    recovered = await p.poll()
    assert recovered.snapshot is not None and not recovered.snapshot.stale
    assert recovered.snapshot.error is None and p.failures == 0


async def test_unreachable_page_never_seen_has_no_state(
    dead_url: str, client: httpx.AsyncClient
) -> None:
    p = poller(dead_url, PageKind.INCIDENTIO, client)
    result = await p.poll()
    assert result.snapshot is None
    assert result.error is not None and result.error.kind is ErrorKind.UNREACHABLE
    assert "could not connect" in result.error.message
    assert "tidak dapat terhubung" in result.error.text.id


def test_delay_is_jittered_and_backs_off() -> None:
    rng = random.Random(7)
    healthy = [next_delay(60, 0, rng) for _ in range(200)]
    assert 54 <= min(healthy) < max(healthy) <= 66
    assert len(set(healthy)) > 100
    assert 108 <= next_delay(60, 1, rng) <= 132
    assert 432 <= next_delay(60, 3, rng) <= 528
    assert next_delay(60, 40, rng) <= 1800 * 1.1  # capped


async def test_feed_poll(page_server: PageServer, client: httpx.AsyncClient) -> None:
    page_server.raw(
        "/history.rss",
        rss(
            [
                (
                    "g1",
                    "Login failing",
                    "Thu, 23 Jan 2025 12:10:00 +0000",
                    "<strong>Investigating</strong> - Looking into it.",
                )
            ]
        ),
        content_type="application/rss+xml",
    )
    p = poller(page_server.base + "/history.rss", PageKind.FEED, client)
    result = await p.poll()
    assert result.snapshot is not None
    assert [i.title for i in result.snapshot.open_incidents] == ["Login failing"]
    assert (await p.poll()).not_modified
