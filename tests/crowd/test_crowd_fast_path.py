"""The `FastReports` bypass answers exactly as the routed endpoint does.

Two apps on one store: the real one (JSON reports short-cut past routing) and the
same app with the bypass taken out, so every report goes through FastAPI's route.
Each gets the same requests in the same order; status, detail, Retry-After and the
first-party cookie's attributes must match, and both must store the same reports.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from pantau.clock import FrozenClock
from pantau.store import Store
from pantau.web.fast_reports import FastReports
from tests.crowd.crowd_fixtures import T0, client, crowd_store, make_app

__all__ = ["crowd_store"]
URL = "/api/v1/services/chatgpt/reports"
JSON = {"content-type": "application/json"}

CASES: list[tuple[str, dict[str, Any]]] = [
    (URL, {"content": b'{"category": "app"}',
           "headers": {**JSON, "content-encoding": "gzip"}}),
    (URL, {"json": {"category": "website", "text": "502 Bad Gateway"}}),
    (URL, {"json": {"category": "login", "region": " id-jk "},
           "headers": {"X-Pantau-Client": "cli-abcdefgh", "X-Forwarded-For": "203.0.113.5"}}),
    (URL, {"json": {"category": "app"},
           "headers": {"cookie": "lang=id; pantau_cid=browser-12345678"}}),
    (URL, {"content": b'{"category": "api"}',
           "headers": {"content-type": "Application/JSON; charset=utf-8"}}),
    (URL, {"content": b'{"category": "other"}', "headers": {"content-type": ""}}),
    (URL, {"json": {"category": "coffee"}}),
    (URL, {"json": {"category": 7}}),
    (URL, {"json": {"category": "app", "text": 5}}),
    (URL, {"json": {"category": "app", "extra": 1}}),
    (URL, {"json": {"category": "app", "region": "Jakarta"}}),
    (URL, {"json": {"category": "app", "text": "x" * 281}}),
    (URL, {"json": {}}),
    (URL, {"json": ["website"]}),
    (URL, {"content": b"{not json", "headers": JSON}),
    (URL, {"content": b'{"category": "\xff"}', "headers": JSON}),
    (URL, {"content": b"x" * 5000, "headers": JSON}),
    (URL, {"content": b"<a/>", "headers": {"content-type": "text/xml"}}),
    ("/api/v1/services/nope/reports", {"json": {"category": "app"}}),
    # The same address again and again: the per-address limit (2/minute here) refuses.
    *[(URL, {"json": {"category": "app"}, "headers": {"X-Forwarded-For": "198.51.100.9"}})] * 3,
]


def routed_only(app: FastAPI) -> httpx.AsyncClient:
    """A client of the app as it would be without the bypass: FastAPI's own entry."""
    assert isinstance(app.fast_reports, FastReports)  # type: ignore[attr-defined]

    async def routed(scope: Scope, receive: Receive, send: Send) -> None:
        await FastAPI.__call__(app, scope, receive, send)

    transport = httpx.ASGITransport(app=routed, client=("127.0.0.1", 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://pantau.test")


def cookie_attributes(response: httpx.Response) -> set[str] | None:
    header = response.headers.get("set-cookie")
    if header is None:
        return None
    name, _, rest = header.partition("=")
    parts = {p.strip().lower() for p in rest.split(";")[1:]}
    value = rest.split(";")[0]
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", value), header
    return {name, *parts}


def answer(response: httpx.Response) -> tuple[object, ...]:
    body = response.json()
    if response.status_code == 202:
        assert re.fullmatch(r"[0-9a-f]{32}", body["id"]), body
        body = "id"
    return (response.status_code, body, response.headers.get("retry-after"),
            response.headers.get("content-type"), cookie_attributes(response))


async def test_bypass_answers_as_the_route_does(crowd_store: Store) -> None:
    fast = client(make_app(crowd_store, FrozenClock(T0), report_limit_address="2/minute"))
    routed = routed_only(make_app(crowd_store, FrozenClock(T0), report_limit_address="2/minute"))
    answers: dict[str, list[tuple[object, ...]]] = {"fast": [], "routed": []}
    for name, each in (("fast", fast), ("routed", routed)):
        async with each as http:
            for url, kwargs in CASES:
                http.cookies.clear()  # each request as from a new browser, unless it says
                answers[name].append(answer(await http.post(url, **kwargs)))
    for case, got, want in zip(CASES, answers["fast"], answers["routed"], strict=True):
        assert got == want, case
    statuses = [a[0] for a in answers["fast"]]
    assert {202, 400, 404, 413, 415, 422, 429} <= set(statuses)
    rows = await crowd_store.report_rows(T0, T0.replace(hour=12))
    accepted = statuses.count(202)
    assert len(rows) == 2 * accepted
    # Both paths stored the same reports (ids differ; everything else is the same).
    key = sorted((r.category, r.region, r.text_norm, r.counted) for r in rows)
    assert key[0::2] == key[1::2]


async def test_forwarded_for_is_read_whatever_other_header_repeats(crowd_store: Store) -> None:
    # With no header name repeated, the one X-Forwarded-For line is taken as it is; any
    # repeat (here Accept) sends the bypass back to joining every line: same address.
    app = make_app(crowd_store, FrozenClock(T0), report_limit_address="1/minute")
    single = [("X-Forwarded-For", "203.0.113.7")]
    repeated = [("Accept", "application/json"), ("Accept", "*/*"), *single]
    async with client(app) as http:
        assert (await http.post(URL, json={"category": "app"}, headers=single)).status_code == 202
        again = await http.post(URL, json={"category": "app"}, headers=repeated)
        assert again.status_code == 429
        other = [*repeated[:2], ("X-Forwarded-For", "203.0.113.8")]
        assert (await http.post(URL, json={"category": "app"}, headers=other)).status_code == 202


async def test_bypass_takes_the_new_endpoint_after_a_shutdown(crowd_store: Store) -> None:
    # The bypass keeps the app's endpoint; once the lifespan closed it, the next report
    # opens a new one, the one the routed path (forms) uses too, so limits stay shared.
    app = make_app(crowd_store, FrozenClock(T0), report_limit_address="1/minute")
    async with app.router.lifespan_context(app), client(app) as http:
        first = await http.post(URL, json={"category": "app"})
        assert first.status_code == 202
        closed = app.state.crowd_endpoint
    assert closed.closed and app.state.crowd_endpoint is None
    async with app.router.lifespan_context(app), client(app) as http:
        assert (await http.post(URL, json={"category": "app"})).status_code == 202
        endpoint = app.state.crowd_endpoint
        assert endpoint is not closed and not endpoint.closed
        form = await http.post(URL, data={"category": "app"})
        assert form.status_code == 429  # the form met the JSON report's budget


async def test_a_report_said_to_be_too_large_is_refused_before_its_body(
    crowd_store: Store,
) -> None:
    # Content-Length says 5000 bytes, more than a report may hold: answered at once, not
    # after waiting (30 s and more) for a body the client may never send.
    app = make_app(crowd_store, FrozenClock(T0))
    sent: list[dict[str, Any]] = []

    async def never(*_: Any) -> Any:
        await asyncio.Event().wait()

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": URL, "scheme": "http",
             "query_string": b"", "client": ("127.0.0.1", 5000), "server": ("test", 80),
             "headers": [(b"content-type", b"application/json"),
                         (b"content-length", b"5000")]}
    async with app.router.lifespan_context(app):
        await asyncio.wait_for(app(scope, never, send), timeout=5)  # type: ignore[arg-type]
    assert sent[0]["status"] == 413
    assert b'"code":"too_large"' in sent[1]["body"].replace(b" ", b"")
