"""Problem reports: the JSON API, and the HTML form that works without JavaScript.

`POST /api/v1/services/{slug}/reports` takes JSON (the API, the CLI, the page's
script) or a urlencoded form (the page without script). JSON callers get 202 with
the report's id once it is durable, or a 4xx/5xx with `{"detail": …}`. Form
callers are redirected to a thank-you page (303, so a reload does not resend),
or shown the reason their report was refused.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.types import ASGIApp, Receive, Scope, Send

from pantau.catalog import Service
from pantau.crowd.identity import tokens
from pantau.crowd.ingest import Ingest, NoAddress, RateLimited
from pantau.crowd.validate import Category, ReportIn
from pantau.signals import Text
from pantau.store.reports import reports_store
from pantau.store.writer import Overloaded
from pantau.web.render import YEAR, reader_language, render

router = APIRouter()
MAX_REPORT_BYTES = 4096
CLIENT_COOKIE = "pantau_cid"
CLIENT_HEADER = "x-pantau-client"
FORM_TYPE = "application/x-www-form-urlencoded"

THANKS = Text("Thank you", "Terima kasih")
THANKS_BODY = Text(
    "Your report counts. If many people report the same, pantau shows it within minutes.",
    "Laporan Anda tercatat. Jika banyak orang melaporkan hal yang sama, pantau "
    "menampilkannya dalam beberapa menit.",
)
REFUSED = Text("Report not sent", "Laporan tidak terkirim")
BACK = Text("Back to the status page", "Kembali ke halaman status")
# What a person using the form reads when a report is refused (the API's `detail` is
# for programs and stays in English).
FORM_REASONS = {
    400: Text("The report could not be read.", "Laporan tidak dapat dibaca."),
    413: Text("The message is too long.", "Pesannya terlalu panjang."),
    422: Text(
        "Please choose what does not work; a region looks like ID-JK and a message has "
        "at most 280 characters.",
        "Pilih apa yang tidak berfungsi; wilayah ditulis seperti ID-JK dan pesan paling "
        "banyak 280 karakter.",
    ),
    429: Text(
        "Too many reports from your network. Please try again in {wait} seconds.",
        "Terlalu banyak laporan dari jaringan Anda. Coba lagi dalam {wait} detik.",
    ),
    503: Text(
        "Too many reports are arriving right now. Please try again in a moment.",
        "Saat ini terlalu banyak laporan masuk. Coba lagi sebentar lagi.",
    ),
}


class Refused(Exception):
    def __init__(self, status: int, detail: str, retry_after: int | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.retry_after = retry_after


def new_client_id() -> str:
    """22 URL-safe characters from 16 random bytes (as `secrets.token_urlsafe(16)`)."""
    return base64.urlsafe_b64encode(tokens.take(16)).rstrip(b"=").decode()


def _ingest(state: Any) -> Ingest:
    ingest: Ingest | None = getattr(state, "crowd_ingest", None)
    if ingest is None:
        runtime = state.runtime
        ingest = Ingest.from_settings(
            state.settings, reports_store(state.store), state.clock, runtime.redis
        )
        state.crowd_ingest = ingest
    return ingest


def _parse(raw: bytes, is_form: bool) -> ReportIn:
    if len(raw) > MAX_REPORT_BYTES:
        raise Refused(413, f"a report is at most {MAX_REPORT_BYTES} bytes")
    try:
        body = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Refused(400, f"the body is not valid UTF-8 (byte {exc.start})") from None
    data: Any
    if is_form:
        fields = parse_qs(body, keep_blank_values=False)
        data = {k: v[0] for k, v in fields.items() if k in ("category", "region", "text")}
    else:
        try:
            data = json.loads(body)
        except json.JSONDecodeError as exc:
            raise Refused(400, f"the body is not valid JSON: {exc.msg} at {exc.pos}") from None
    if not isinstance(data, dict):
        raise Refused(422, "the body must be a JSON object with a category")
    try:
        return ReportIn.model_validate(data)
    except ValidationError as exc:
        raise Refused(422, _explain(exc)) from None


def _explain(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"])
        if where == "category" and error["type"] in ("enum", "missing"):
            choices = ", ".join(c.value for c in Category)
            parts.append(f"category: must be one of {choices}")
        elif error["type"] == "extra_forbidden":
            parts.append(f"{where}: unknown field (allowed: category, region, text)")
        elif where == "region" and error["type"] == "string_pattern_mismatch":
            parts.append("region: must be an ISO 3166-2 code such as ID-JK")
        else:
            parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


@router.post(
    "/api/v1/services/{slug}/reports",
    status_code=202,
    summary="Report a problem with a service (JSON, or the page's form)",
    responses={
        202: {"description": "stored durably; body {'id': …}"},
        400: {"description": "not UTF-8 / not JSON"},
        404: {"description": "unknown service"},
        413: {"description": "body too large"},
        415: {"description": "neither JSON nor a form"},
        422: {"description": "wrong fields or types"},
        429: {"description": "rate limited (Retry-After)"},
        503: {"description": "overloaded (Retry-After)"},
    },
)
async def post_report(request: Request, slug: str) -> Response:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    is_form = content_type == FORM_TYPE
    service: Service | None = request.app.state.catalog.get(slug)
    client_id = request.cookies.get(CLIENT_COOKIE) or request.headers.get(CLIENT_HEADER)
    new_client = None
    if not client_id:
        # A first-party cookie lets one browser count once however it is spelt.
        new_client = client_id = new_client_id()
    try:
        report_id = await accept(
            request.app.state,
            slug,
            await request.body(),
            content_type,
            client_id=client_id,
            peer=request.client.host if request.client else None,
            forwarded_for=request.headers.get("x-forwarded-for"),
        )
    except Refused as exc:
        response = _refused(request, service, exc, is_form)
    else:
        if is_form:
            response = RedirectResponse(f"/services/{slug}/reported", status_code=303)
        else:
            response = JSONResponse({"id": report_id}, status_code=202)
    if new_client is not None:
        response.set_cookie(CLIENT_COOKIE, new_client, max_age=YEAR, samesite="lax", httponly=True)
    return response


async def accept(
    state: Any,
    slug: str,
    raw: bytes,
    content_type: str,
    *,
    client_id: str,
    peer: str | None,
    forwarded_for: str | None,
) -> str:
    """Validate, rate-limit, count and store one report; its id once durable.

    Every refusal is a `Refused` with the status and the sentence to show.
    """
    service: Service | None = state.catalog.get(slug)
    if service is None:
        raise Refused(404, f"unknown service {slug!r}; GET /api/v1/services lists them")
    is_form = content_type == FORM_TYPE
    if not is_form and content_type not in ("application/json", ""):
        raise Refused(415, "send application/json (or the page's form)")
    report = _parse(raw, is_form)
    try:
        return await _ingest(state).submit(
            service.slug, report, client_id=client_id, peer=peer, forwarded_for=forwarded_for
        )
    except RateLimited as exc:
        raise Refused(429, str(exc), exc.retry_after) from None
    except Overloaded as exc:
        raise Refused(
            503, "too many reports right now; try again shortly", exc.retry_after
        ) from None
    except NoAddress as exc:
        raise Refused(400, str(exc)) from None


def _refused(request: Request, service: Service | None, exc: Refused, is_form: bool) -> Response:
    headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
    if is_form and service is not None:
        lang = reader_language(request)
        response: Response = render(
            request,
            "report_done.html",
            status_code=exc.status,
            service=service,
            heading=REFUSED.get(lang),
            message=FORM_REASONS.get(exc.status, FORM_REASONS[400])
            .get(lang)
            .format(wait=exc.retry_after),
            back=BACK.get(lang),
        )
        if headers:
            response.headers.update(headers)
        return response
    return JSONResponse({"detail": exc.detail}, status_code=exc.status, headers=headers)


@router.get("/services/{slug}/reported", include_in_schema=False)
async def reported(request: Request, slug: str) -> Response:
    service: Service | None = request.app.state.catalog.get(slug)
    if service is None:
        return JSONResponse({"detail": f"unknown service {slug!r}"}, status_code=404)
    lang = reader_language(request)
    return render(
        request,
        "report_done.html",
        service=service,
        heading=THANKS.get(lang),
        message=THANKS_BODY.get(lang),
        back=BACK.get(lang),
    )


_REPORT_PATH = re.compile(r"^/api/v1/services/([a-z0-9-]+)/reports$")


class FastReports:
    """ASGI middleware: JSON reports go straight to `accept`, past the framework.

    At outage scale this one endpoint takes nearly all the traffic, and the framework's
    middleware, routing over every page and dependency solving cost more CPU than
    the report itself (bench/ingest.py). Same checks and answers as `post_report`;
    forms and everything else pass through to the application.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = None
        if scope["type"] == "http" and scope["method"] == "POST":
            match = _REPORT_PATH.match(scope["path"])
        if match is None:
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type == FORM_TYPE:
            await self.app(scope, receive, send)
            return
        client_id = _cookie(headers.get("cookie", ""), CLIENT_COOKIE) or headers.get(CLIENT_HEADER)
        extra: list[tuple[bytes, bytes]] = []
        if not client_id:
            client_id = new_client_id()
            cookie = f"{CLIENT_COOKIE}={client_id}; Max-Age={YEAR}; Path=/; SameSite=lax; HttpOnly"
            extra.append((b"set-cookie", cookie.encode()))
        try:
            raw = await _read_body(receive)
            client = scope.get("client")
            report_id = await accept(
                scope["app"].state,
                match.group(1),
                raw,
                content_type,
                client_id=client_id,
                peer=client[0] if client else None,
                forwarded_for=headers.get("x-forwarded-for"),
            )
        except Refused as exc:
            if exc.retry_after:
                extra.append((b"retry-after", str(exc.retry_after).encode()))
            await _send(send, exc.status, json.dumps({"detail": exc.detail}).encode(), extra)
        else:
            # The id is hex: no escaping needed, and no encoder on the busiest answer.
            await _send(send, 202, b'{"id":"' + report_id.encode() + b'"}', extra)


def _cookie(header: str, name: str) -> str | None:
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value or None
    return None


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    size, more = 0, True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise Refused(400, "the client went away")
        body: bytes = message.get("body", b"")
        size += len(body)
        if size > MAX_REPORT_BYTES:
            raise Refused(413, f"a report is at most {MAX_REPORT_BYTES} bytes")
        chunks.append(body)
        more = bool(message.get("more_body", False))
    return b"".join(chunks)


async def _send(send: Send, status: int, body: bytes, extra: list[tuple[bytes, bytes]]) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers + extra})
    await send({"type": "http.response.body", "body": body})
