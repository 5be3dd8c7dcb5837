"""Problem reports: the JSON API, and the HTML form that works without JavaScript.

`POST /api/v1/services/{slug}/reports` takes JSON (the API, the CLI, the page's
script) or a urlencoded form (the page without script). JSON callers get 202 with
the report's id once it is durable, or a 4xx/5xx with `{"detail": …, "code": …}`:
the code is stable, for programs; the detail is a sentence in the reader's language
(`?lang=`, the lang cookie or Accept-Language, as the pages choose it). Form
callers are redirected to a thank-you page (303, so a reload does not resend),
or shown the reason their report was refused.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import SQLAlchemyError

from pantau.catalog import Service
from pantau.crowd.identity import tokens
from pantau.crowd.ingest import Ingest, NoAddress, RateLimited, clean_client_id
from pantau.crowd.shared import SharedStateDown
from pantau.crowd.validate import (
    FIELDS,
    MAX_TEXT,
    Category,
    Invalid,
    Malformed,
    ReportIn,
    decode_form,
    decode_report,
)
from pantau.regions import home_provinces
from pantau.signals import Text, counted
from pantau.store.reports import reports_store
from pantau.store.writer import Overloaded, WriterClosed
from pantau.web.errors import (
    FORM_TYPE,
    HOME,
    UNKNOWN_SERVICE,
    Problem,
    media_type,
    unknown_service,
)
from pantau.web.page_text import CATEGORY
from pantau.web.render import YEAR, reader_language, render

log = logging.getLogger(__name__)
router = APIRouter()
MAX_REPORT_BYTES = 4096
CLIENT_COOKIE = "pantau_cid"
CLIENT_HEADER = "x-pantau-client"

THANKS = Text("Thank you", "Terima kasih")
THANKS_BODY = Text(
    "Your report counts. If many people report the same, pantau shows it within minutes.",
    "Laporan Anda tercatat. Jika banyak orang melaporkan hal yang sama, pantau "
    "menampilkannya dalam beberapa menit.",
)
REFUSED = Text("Report not sent", "Laporan tidak terkirim")
BACK = Text("Back to the status page", "Kembali ke halaman status")
# What a person using the form reads when a report is refused (the API's `detail` is
# more precise, for whoever writes a program against it).
FORM_REASONS = {
    400: Text("The report could not be read.", "Laporan tidak dapat dibaca."),
    403: Text(
        "Reports are sent from pantau's own pages. Please report from the service's page.",
        "Laporan dikirim dari halaman pantau sendiri. Silakan melapor dari halaman layanan.",
    ),
    413: Text("The message is too long.", "Pesannya terlalu panjang."),
    422: Text(
        "Please choose what does not work; a region looks like ID-JK and a message has "
        "at most 280 characters.",
        "Pilih apa yang tidak berfungsi; wilayah ditulis seperti ID-JK dan pesan paling "
        "banyak 280 karakter.",
    ),
    429: Text(
        "Too many reports from your network. Please try again in {seconds}.",
        "Terlalu banyak laporan dari jaringan Anda. Coba lagi dalam {wait} detik.",
    ),
    503: Text(
        "Too many reports are arriving right now. Please try again in a moment.",
        "Saat ini terlalu banyak laporan masuk. Coba lagi sebentar lagi.",
    ),
}
# Where one status has several causes, the one a person should read.
FORM_REASONS_BY_CODE = {
    "unavailable": Text(
        "Reports cannot be counted right now. Please try again in a moment.",
        "Laporan tidak dapat dihitung saat ini. Coba lagi sebentar lagi.",
    ),
    "bad_category": Text("Please choose what does not work.",
                         "Pilih apa yang tidak berfungsi."),
    "bad_region": Text(
        "That region is not one we know: pick a province from the list, or type an "
        "ISO 3166-2 code such as MY-10.",
        "Wilayah itu tidak kami kenal: pilih provinsi dari daftar, atau ketik kode "
        "ISO 3166-2 seperti MY-10.",
    ),
    "bad_text": Text(f"The message is longer than {MAX_TEXT} characters.",
                     f"Pesannya lebih dari {MAX_TEXT} karakter."),
}
# The form's field each of those refusals is about.
_FORM_FIELDS = {"bad_region": "region", "bad_text": "text"}
_CATEGORIES = ", ".join(c.value for c in Category)
# The API's refusals: a stable `code` for programs, and a `detail` in the reader's
# language (Accept-Language, ?lang= or the lang cookie, as the pages choose it).
DETAILS = {
    "too_large": Text(
        f"a report is at most {MAX_REPORT_BYTES} bytes",
        f"sebuah laporan paling banyak {MAX_REPORT_BYTES} bita",
    ),
    "not_utf8": Text(
        "the body is not valid UTF-8 (byte {at})",
        "isi permintaan bukan UTF-8 yang sah (bita ke-{at})",
    ),
    "not_json": Text(
        "the body is not valid JSON (byte {at})",
        "isi permintaan bukan JSON yang sah (bita ke-{at})",
    ),
    "not_object": Text(
        "the body must be a JSON object with a category",
        "isi permintaan harus berupa objek JSON dengan category",
    ),
    "bad_category": Text(
        f"category: must be one of {_CATEGORIES}",
        f"category: harus salah satu dari {_CATEGORIES}",
    ),
    "bad_region": Text(
        "region: must be an ISO 3166-2 code such as ID-JK",
        "region: harus berupa kode ISO 3166-2 seperti ID-JK",
    ),
    "bad_text": Text(
        f"text: must be a string of at most {MAX_TEXT} characters",
        f"text: harus berupa teks paling banyak {MAX_TEXT} karakter",
    ),
    "unknown_field": Text(
        "{field}: unknown field (allowed: category, region, text)",
        "{field}: kolom tidak dikenal (yang boleh: category, region, text)",
    ),
    "unknown_service": UNKNOWN_SERVICE,
    "unsupported_type": Text(
        "send application/json (or the page's form)",
        "kirim application/json (atau formulir halaman)",
    ),
    "unsupported_encoding": Text(
        "send the report uncompressed (no Content-Encoding)",
        "kirim laporan tanpa kompresi (tanpa Content-Encoding)",
    ),
    "rate_limited": Text(
        "too many reports from your network; try again in {wait} s",
        "terlalu banyak laporan dari jaringan Anda; coba lagi dalam {wait} detik",
    ),
    "overloaded": Text(
        "too many reports right now; try again shortly",
        "terlalu banyak laporan saat ini; coba lagi sebentar lagi",
    ),
    "unavailable": Text(
        "reports cannot be counted right now (shared state unreachable); try again shortly",
        "laporan tidak dapat dihitung saat ini (status bersama tidak terjangkau); coba lagi "
        "sebentar lagi",
    ),
    "store_failed": Text(
        "the report could not be stored right now; try again shortly",
        "laporan tidak dapat disimpan saat ini; coba lagi sebentar lagi",
    ),
    "cross_site": Text(
        "reports from another site's page are refused (Sec-Fetch-Site or Origin)",
        "laporan dari halaman situs lain ditolak (Sec-Fetch-Site atau Origin)",
    ),
    "no_address": Text(
        "cannot tell the client's address",
        "alamat klien tidak dapat diketahui",
    ),
    "client_gone": Text("the client went away", "klien sudah pergi"),
}
UNAVAILABLE_RETRY = 5
"""Seconds a client is asked to wait while Redis, or the database, is unreachable."""
_FIELD_CODES = {"category": "bad_category", "region": "bad_region", "text": "bad_text"}


class Refused(Problem):
    """A report refused: a `Problem` whose sentence is DETAILS[code], with the seconds
    after which to try again where that is known.

    Answered by this module and `fast_reports`, not by the app's handlers: the JSON
    fast path has no Request and sends `body` itself; the form path renders its own
    page."""

    def __init__(
        self, status: int, code: str, retry_after: int | None = None, **params: object
    ) -> None:
        super().__init__(status, code, DETAILS[code], **params)
        self.retry_after = retry_after

    def body(self, language: str) -> bytes:
        return json.dumps({"detail": self.sentence(language), "code": self.code}).encode()


def new_client_id() -> str:
    """22 URL-safe characters from 16 random bytes (as `secrets.token_urlsafe(16)`)."""
    return base64.urlsafe_b64encode(tokens.take(16)).rstrip(b"=").decode()


def client_of(presented: str | None) -> tuple[str, bool]:
    """The client id a report is known by, and whether it is new (to be set as the cookie).

    A first-party cookie lets one browser count once however its address changes. A
    client that presents no id we accept is given one, and this report is already known
    by it: known by its address instead, a browser's next report, with the cookie, was a
    second voice. A client that never sends it back (a script ignoring cookies) is a new
    reporter each time, within its network's few voices (as forged ids are)."""
    client_id = clean_client_id(presented)
    return (new_client_id(), True) if client_id is None else (client_id, False)


def over_https(scheme: str, peer: str | None, headers: Mapping[bytes, bytes],
               ingest: Ingest) -> bool:
    """Whether the browser reached us over HTTPS: directly, or through a trusted proxy that
    ended TLS and says so (`X-Forwarded-Proto`); the cookie is then marked `Secure`."""
    if scheme == "https":
        return True
    proto = headers.get(b"x-forwarded-proto")
    return (proto is not None and ingest.trusts(peer)
            and proto.split(b",")[0].strip().lower() == b"https")


@dataclass(slots=True)
class Endpoint:
    """What every report needs, found once per app: the services by slug, the ingest."""

    services: dict[str, Service]
    ingest: Ingest
    origins: frozenset[bytes] = frozenset()
    """Other sites whose pages may send reports (PANTAU_REPORT_ORIGINS)."""
    closed: bool = False
    """Let go of at shutdown (`close`): whoever kept it asks the app's state again."""


def endpoint_of(state: Any) -> Endpoint:
    endpoint: Endpoint | None = getattr(state, "crowd_endpoint", None)
    if endpoint is None:
        runtime = state.runtime
        ingest = Ingest.from_settings(
            state.settings, reports_store(state.store), state.clock, runtime.redis
        )
        services = {service.slug: service for service in state.catalog.services}
        origins = frozenset(origin.encode() for origin in state.settings.report_origins)
        endpoint = state.crowd_endpoint = Endpoint(services, ingest, origins)
    return endpoint


async def open_endpoint(state: Any) -> None:
    """Open the report endpoint at start, with the voices heard before it (`Ingest.recall`):
    opened by the first report instead, a restart would count its reporters again."""
    await endpoint_of(state).ingest.recall()


def close(state: Any) -> None:
    """Release what the report endpoint holds, at shutdown; a later report opens it anew."""
    endpoint: Endpoint | None = getattr(state, "crowd_endpoint", None)
    if endpoint is not None:
        state.crowd_endpoint = None
        endpoint.closed = True
        endpoint.ingest.close()


def _parse(raw: bytes, is_form: bool) -> ReportIn:
    if len(raw) > MAX_REPORT_BYTES:
        raise Refused(413, "too_large")
    try:
        return decode_form(raw) if is_form else decode_report(raw)
    except Malformed as exc:
        raise Refused(400, "not_utf8" if exc.utf8 else "not_json", at=exc.at) from None
    except Invalid as exc:
        if exc.unknown:
            raise Refused(422, "unknown_field", field=exc.field) from None
        raise Refused(422, _FIELD_CODES.get(exc.field, "not_object")) from None


@router.post(
    "/api/v1/services/{slug}/reports",
    status_code=202,
    summary="Report a problem with a service (JSON, or the page's form)",
    responses={
        202: {"description": "stored durably; body {'id': …}"},
        400: {
            "description": "not UTF-8 / not JSON, or the client cannot be told "
            "(code not_utf8, not_json, no_address, client_gone)"
        },
        403: {"description": "sent from another site's page (code cross_site)"},
        404: {"description": "unknown service (code unknown_service)"},
        413: {"description": "body too large (code too_large)"},
        415: {"description": "neither JSON nor a form (code unsupported_type), or "
                             "compressed (code unsupported_encoding)"},
        422: {
            "description": "wrong fields or types (code bad_category, bad_region, bad_text, "
            "unknown_field, not_object)"
        },
        429: {"description": "rate limited, Retry-After (code rate_limited)"},
        503: {
            "description": "overloaded, Redis unreachable or the database failing, "
            "Retry-After (code overloaded, unavailable, store_failed)"
        },
    },
)
async def post_report(request: Request, slug: str) -> Response:
    content_type = media_type(request.headers.get("content-type", ""))
    is_form = content_type == FORM_TYPE
    service: Service | None = request.app.state.catalog.get(slug)
    client_id, new_client = client_of(
        request.cookies.get(CLIENT_COOKIE) or request.headers.get(CLIENT_HEADER))
    endpoint = endpoint_of(request.app.state)
    peer = request.client.host if request.client else None
    headers = dict(reversed(request.scope["headers"]))
    try:
        report_id = await accept(
            endpoint,
            slug,
            await request.body(),
            content_type,
            client_id=client_id,
            peer=peer,
            forwarded_for=forwarded_lines(request.scope["headers"]),
            headers=headers,
        )
    except Refused as exc:
        response = await _refused(request, service, exc, is_form)
    else:
        if is_form:
            # The reader's language carried on, for a browser that keeps no cookie.
            response = RedirectResponse(
                f"/services/{slug}/reported?lang={reader_language(request)}", status_code=303)
        else:
            response = JSONResponse({"id": report_id}, status_code=202)
    if new_client:
        response.set_cookie(CLIENT_COOKIE, client_id, max_age=YEAR, samesite="lax", httponly=True,
                            secure=over_https(request.url.scheme, peer, headers, endpoint.ingest))
    return response


async def accept(
    endpoint: Endpoint,
    slug: str,
    raw: bytes,
    content_type: str,
    *,
    client_id: str | None,
    peer: str | None,
    forwarded_for: str | None,
    headers: Mapping[bytes, bytes] | None = None,
) -> str:
    """Validate, rate-limit, count and store one report; its id once durable.

    Every refusal is a `Refused` with the status and the code of the sentence to show.
    """
    service = endpoint.services.get(slug)
    if service is None:
        raise Refused(404, "unknown_service", slug=slug)
    if headers is not None and cross_site(headers, endpoint.origins):
        raise Refused(403, "cross_site")
    is_form = content_type == FORM_TYPE
    if not is_form and content_type not in ("application/json", ""):
        raise Refused(415, "unsupported_type")
    # A report is a few hundred bytes: not worth a decompressor, and a gzipped body read
    # as JSON was "not valid JSON (byte 0)".
    encoding = headers.get(b"content-encoding") if headers is not None else None
    if encoding is not None and encoding.strip().lower() not in (b"identity", b""):
        raise Refused(415, "unsupported_encoding")
    report = _parse(raw, is_form)
    try:
        return await endpoint.ingest.submit(
            service.slug, report, client_id=client_id, peer=peer, forwarded_for=forwarded_for,
            headers=headers,
        )
    except RateLimited as exc:
        raise Refused(429, "rate_limited", exc.retry_after, wait=exc.retry_after) from None
    except Overloaded as exc:
        raise Refused(503, "overloaded", exc.retry_after) from None
    except SharedStateDown:
        raise Refused(503, "unavailable", UNAVAILABLE_RETRY) from None
    except NoAddress:
        raise Refused(400, "no_address") from None
    except (WriterClosed, SQLAlchemyError):
        # The server stopping, or the database failing: nothing was stored.
        log.exception("a report could not be stored")
        raise Refused(503, "store_failed", UNAVAILABLE_RETRY) from None


def cross_site(headers: Mapping[bytes, bytes], allowed: frozenset[bytes] = frozenset()) -> bool:
    """Whether a browser sends this report from another site's page, other than the
    `allowed` origins' (PANTAU_REPORT_ORIGINS: an operator's own status site, say).

    Counting distinct people and networks cannot tell a forged outage from a real one
    when any page's visitors can be made to report from their own browsers (a form
    submitted for them, a fetch without CORS). Browsers say where a request comes from
    (Sec-Fetch-Site, else Origin); programs (the CLI, curl, scripts) send neither, and
    are let through. Behind a reverse proxy the Host header must be passed on.
    """
    origin = headers.get(b"origin")
    if origin is not None and origin.lower() in allowed:
        return False
    site = headers.get(b"sec-fetch-site")
    if site is not None:
        return site not in (b"same-origin", b"none")
    if origin is None:
        return False
    scheme, _, authority = origin.partition(b"://")
    host = headers.get(b"host")
    return host is None or _authority(authority, scheme) != _authority(host, scheme)


def _authority(value: bytes, scheme: bytes) -> bytes:
    """host[:port] as compared: in lower case, without the scheme's default port (a Host
    of PANTAU.example:443 is the origin https://pantau.example)."""
    value = value.lower()
    default = b":443" if scheme.lower() == b"https" else b":80"
    return value.removesuffix(default)


async def _sent_form(request: Request) -> dict[str, str]:
    """The report form's fields as sent, to fill the form in again (whatever they hold:
    Jinja escapes them)."""
    fields = parse_qs((await request.body())[:MAX_REPORT_BYTES].decode("utf-8", "replace"))
    return {name: values[-1] for name, values in fields.items() if name in FIELDS}


async def _refused(request: Request, service: Service | None, exc: Refused,
                   is_form: bool) -> Response:
    headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
    lang = reader_language(request)
    if is_form and service is not None:
        # What was typed is given back in the form, to mend and send again.
        again = ({"sent": await _sent_form(request), "invalid": _FORM_FIELDS.get(exc.code),
                  "categories": list(CATEGORY), "CATEGORY": CATEGORY,
                  "provinces": home_provinces(lang)}
                 if exc.status_code in (413, 422) else {})
        response: Response = render(
            request,
            "report_done.html",
            status_code=exc.status_code,
            service=service,
            heading=REFUSED.get(lang),
            message=(
                FORM_REASONS_BY_CODE.get(exc.code)
                or FORM_REASONS.get(exc.status_code, FORM_REASONS[400])
            )
            .get(lang)
            .format(wait=exc.retry_after,
                    seconds=counted(exc.retry_after or 1, "second", "seconds")),
            back=BACK.get(lang),
            **again,
        )
        if headers:
            response.headers.update(headers)
        return response
    if is_form:  # a form for a service no longer in the catalog: a page, as any other
        return render(request, "error.html", status_code=exc.status_code,
                      heading=REFUSED.get(lang), message=exc.page_sentence(lang),
                      home=HOME.get(lang))
    return Response(exc.body(lang), exc.status_code, headers, media_type="application/json")


@router.get("/services/{slug}/reported", include_in_schema=False)
async def reported(request: Request, slug: str) -> Response:
    service: Service | None = request.app.state.catalog.get(slug)
    if service is None:
        raise unknown_service(slug)
    lang = reader_language(request)
    return render(
        request,
        "report_done.html",
        service=service,
        heading=THANKS.get(lang),
        message=THANKS_BODY.get(lang),
        back=BACK.get(lang),
    )


def forwarded_lines(raw: list[tuple[bytes, bytes]]) -> str | None:
    """Every X-Forwarded-For line, in order, as one list.

    A proxy may add its own line rather than extend the client's: taking only the first
    line would believe a client-sent address, taking only the last would drop hops.
    """
    lines = [value.decode("latin-1") for name, value in raw if name == b"x-forwarded-for"]
    return ", ".join(lines) if lines else None
