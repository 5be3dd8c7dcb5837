"""Languages, translations and time zones for the pages people read.

Messages live in `locales/<lang>/LC_MESSAGES/messages.po` (gettext, managed with Babel:
`pybabel extract`/`update`). They are compiled in memory at start-up, so no build step
is needed. English is the source language; `id` is Bahasa Indonesia.
"""

from __future__ import annotations

import io
from datetime import datetime
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from babel.dates import format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LANGUAGES = ("id", "en")
DEFAULT_LANGUAGE = "en"


@cache
def translations(language: str) -> Translations:
    path = resources.files("pantau").joinpath(f"locales/{language}/LC_MESSAGES/messages.po")
    if not path.is_file():
        return Translations()
    with path.open("rb") as po:
        catalog = read_po(po, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def negotiate(accept_language: str | None, requested: str | None = None) -> str:
    """The reader's language: an explicit choice first, then the browser's preference."""
    if requested in LANGUAGES:
        return requested
    best: tuple[float, str] | None = None
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
            if not quality > 0:  # q=0: "not this one" (RFC 9110, 12.4.2)
                continue
        primary = tag.strip().lower().split("-")[0]
        if primary == "ms":  # Malay readers understand Indonesian better than English
            primary = "id"
        if primary in LANGUAGES and (best is None or quality > best[0]):
            best = (quality, primary)
    return best[1] if best else DEFAULT_LANGUAGE


def zone(name: str | None, language: str, default_id: str, default_en: str) -> ZoneInfo:
    """The reader's time zone: theirs if valid, else the default for their language."""
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return ZoneInfo(default_id if language == "id" else default_en)


DATE_LOCALES = {"id": Locale.parse("id"), "en": Locale.parse("en_GB")}
"""How each language spells dates: English as in Britain, day before month and a
24-hour clock, since plain `en` (American) writes 7 December as 12/7/26, which a
reader in Indonesia, as in most places, reads as 12 July."""


def format_time(moment: datetime, language: str, tz: ZoneInfo, fmt: str = "medium") -> str:
    """A time as the reader expects it, with the zone's short name (WIB, UTC…)."""
    local = moment.astimezone(tz)
    text = format_datetime(local, format=fmt, locale=DATE_LOCALES[language])
    return f"{text} {local.tzname()}"
