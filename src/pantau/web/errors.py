"""Errors as people and programs read them: a stable `code`, a sentence in the reader's language.

The API answers `{"detail": …, "code": …}` (as the report endpoint does); a person who
followed a link to a page that does not exist gets a page, not JSON. The language is
the pages' choice (`?lang=`, the lang cookie, Accept-Language).
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from pantau.signals import Text
from pantau.web.render import reader_language, render

UNKNOWN_SERVICE = Text(
    "unknown service {slug!r}; GET /api/v1/services lists them",
    "layanan {slug!r} tidak dikenal; GET /api/v1/services mendaftar semuanya",
)
# On a page, for a person: the home page, not the API, lists the services.
_PAGE_TEXTS = {
    "unknown_service": Text("unknown service {slug!r}; the home page lists them all",
                            "layanan {slug!r} tidak dikenal; halaman utama mendaftar semuanya"),
}
NO_INCIDENT = Text("no incident {id!r}", "tidak ada gangguan {id!r}")
NO_STATUS_PAGE = Text(
    "service {slug!r} has no official status page in the catalog",
    "layanan {slug!r} tidak punya halaman status resmi di katalog",
)
NOT_ENABLED = Text(
    "this server does not keep {what}", "server ini tidak menyimpan {what}"
)
BODY_TOO_LARGE = Text(
    "request body too large: the limit is {limit} bytes",
    "isi permintaan terlalu besar: batasnya {limit} bita",
)
INVALID = Text("invalid request: {fields}", "permintaan tidak sah: {fields}")
# What pydantic says of a field, in both languages, by its error type.
_NOT_VALID = Text("is not valid", "tidak sah")
_REASONS = {
    "missing": Text("required", "wajib diisi"),
    "int_parsing": Text("must be a whole number", "harus bilangan bulat"),
    "int_from_float": Text("must be a whole number", "harus bilangan bulat"),
    "greater_than_equal": Text("must be at least {ge}", "paling kecil {ge}"),
    "less_than_equal": Text("must be at most {le}", "paling besar {le}"),
    "datetime_parsing": Text("must be a time (ISO 8601)", "harus berupa waktu (ISO 8601)"),
    "datetime_from_date_parsing": Text("must be a time (ISO 8601)",
                                       "harus berupa waktu (ISO 8601)"),
    "string_pattern_mismatch": Text("is not one of the values it takes",
                                    "bukan salah satu nilai yang diterima"),
}
# Starlette's own refusals (a path no route knows, a method a route does not take).
_BY_STATUS = {
    404: ("not_found", Text("nothing here: {path}", "tidak ada apa-apa di sini: {path}")),
    405: (
        "method_not_allowed",
        Text("{method} is not allowed on {path}", "{method} tidak diizinkan pada {path}"),
    ),
}
_OTHER = ("http_error", Text("the request failed ({http})", "permintaan gagal ({http})"))
_PAGE_HEADING = {
    404: Text("Not found", "Tidak ditemukan"),
    405: Text("Not allowed", "Tidak diizinkan"),
    413: Text("Too large", "Terlalu besar"),
}
FORM_TYPE = "application/x-www-form-urlencoded"
"""What a page's form sends (the report form's, without JavaScript)."""
_FORM_TYPES = (FORM_TYPE, "multipart/form-data")
_HEADING = Text("Something went wrong", "Terjadi kesalahan")
HOME = Text("Back to the home page", "Kembali ke halaman utama")


class Problem(HTTPException):
    """A refusal with a stable code and a sentence in both languages."""

    def __init__(self, status: int, code: str, text: Text, **params: object) -> None:
        self.code = code
        self.text = text
        self.params = params
        super().__init__(status, self.sentence("en"))

    def sentence(self, language: str, text: Text | None = None) -> str:
        """The sentence (`text`, else the problem's own) in `language`; parameters that
        are `Text` are said in it too."""
        said = {k: v.get(language) if isinstance(v, Text) else v for k, v in self.params.items()}
        return (text or self.text).get(language).format(**said)

    def page_sentence(self, language: str) -> str:
        """The sentence as a page says it to a person."""
        return self.sentence(language, _PAGE_TEXTS.get(self.code))


def unknown_service(slug: str) -> Problem:
    return Problem(404, "unknown_service", UNKNOWN_SERVICE, slug=slug)


def no_incident(incident_id: str) -> Problem:
    return Problem(404, "unknown_incident", NO_INCIDENT, id=incident_id)


def _problem(request: Request, exc: HTTPException) -> Problem:
    if isinstance(exc, Problem):
        return exc
    code, text = _BY_STATUS.get(exc.status_code, _OTHER)
    problem = Problem(
        exc.status_code, code, text,
        path=request.url.path, method=request.method, http=exc.status_code,
    )
    problem.headers = exc.headers  # Starlette's: a 405's Allow names the methods it takes
    return problem


def media_type(content_type: str) -> str:
    """The media type of a Content-Type value, without its parameters, in lower case."""
    return content_type.split(";")[0].strip().lower()


def _wants_page(request: Request) -> bool:
    """A person's browser: a page it asked for outside the API, or a form it sent."""
    if request.method == "GET":
        path = request.url.path
        return not (path.startswith("/api/") or path == "/healthz")
    return media_type(request.headers.get("content-type", "")) in _FORM_TYPES


async def _on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return answer(request, _problem(request, exc))


def answer(request: Request, problem: Problem) -> Response:
    """The refusal as its reader takes it: a page for a person's browser, else JSON."""
    language = reader_language(request)
    headers = dict(problem.headers) if problem.headers else None
    if _wants_page(request):
        heading = _PAGE_HEADING.get(problem.status_code, _HEADING)
        message = problem.page_sentence(language)
        page = render(
            request, "error.html", status_code=problem.status_code,
            heading=heading.get(language), message=message, home=HOME.get(language),
        )
        page.headers.update(headers or {})
        return page
    return JSONResponse(
        {"detail": problem.sentence(language), "code": problem.code},
        status_code=problem.status_code, headers=headers,
    )


async def _on_invalid(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    # Each field with its reason, in both languages where we have its words.
    parts: dict[str, list[str]] = {"en": [], "id": []}
    for error in exc.errors():
        where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("body", "query"))
        reason = _REASONS.get(error.get("type", ""))
        for language, said in parts.items():
            words = (reason or _NOT_VALID).get(language).format(**error.get("ctx", {}))
            said.append(f"{where}: {words}" if where else words)
    fields = Text("; ".join(parts["en"]) or "?", "; ".join(parts["id"]) or "?")
    problem = Problem(422, "invalid_request", INVALID, fields=fields)
    return await _on_http_error(request, problem)


def install(app: FastAPI) -> None:
    app.add_exception_handler(HTTPException, _on_http_error)
    app.add_exception_handler(RequestValidationError, _on_invalid)
