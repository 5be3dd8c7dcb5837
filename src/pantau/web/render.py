"""Rendering pages in the reader's language and time zone."""

from __future__ import annotations

from datetime import datetime
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from pantau.settings import Settings
from pantau.web.i18n import LANGUAGES, format_time, negotiate, translations, zone

templates = Jinja2Templates(
    directory=str(resources.files("pantau").joinpath("web/templates"))
)
LANG_COOKIE = "pantau_lang"
TZ_COOKIE = "pantau_tz"
YEAR = 365 * 24 * 3600


def reader_language(request: Request) -> str:
    # A language pantau does not have (?lang=fr) is no choice: the one remembered stands.
    asked = request.query_params.get("lang")
    requested = asked if asked in LANGUAGES else request.cookies.get(LANG_COOKIE)
    return negotiate(request.headers.get("accept-language"), requested)


def reader_zone(request: Request, language: str) -> ZoneInfo:
    settings: Settings = request.app.state.settings
    name = request.query_params.get("tz") or request.cookies.get(TZ_COOKIE)
    return zone(name, language, settings.default_timezone_id, settings.default_timezone_en)


def render(
    request: Request, template: str, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """Render `template` with gettext, the language switch and time formatting in scope."""
    language = reader_language(request)
    tz = reader_zone(request, language)
    gettext = translations(language)

    def when(moment: datetime, fmt: str = "medium") -> str:
        return format_time(moment, language, tz, fmt)

    response = templates.TemplateResponse(
        request,
        template,
        {
            "_": gettext.gettext,
            "ngettext": gettext.ngettext,
            "lang": language,
            "languages": LANGUAGES,
            "tz": tz.key,
            "when": when,
            **context,
        },
        status_code=status_code,
    )
    remember_choices(request, response, tz.key)
    return response


def remember_choices(request: Request, response: Response, zone_key: str) -> None:
    """An explicit choice of language or zone (`zone_key`, the reader's) in the URL sticks
    for the next pages."""
    chosen = request.query_params.get("lang")
    if chosen in LANGUAGES:
        response.set_cookie(LANG_COOKIE, chosen, max_age=YEAR, samesite="lax", httponly=True)
    chosen_tz = request.query_params.get("tz")
    if chosen_tz and chosen_tz == zone_key:
        response.set_cookie(TZ_COOKIE, chosen_tz, max_age=YEAR, samesite="lax", httponly=True)
