"""What a report may contain, and the normalised form of its error text."""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qs

import msgspec

from pantau.regions import known_regions

MAX_TEXT = 280
FIELDS = ("category", "region", "text")


class Category(StrEnum):
    WEBSITE = "website"
    APP = "app"
    LOGIN = "login"
    API = "api"
    PAYMENTS = "payments"
    MESSAGES = "messages"
    OTHER = "other"


# Line breaks and tabs between words are a space: "Error 502\nBad Gateway" is the message
# typed on one line, not "Error 502Bad Gateway".
_CONTROLS = re.compile("[\\s\x00-\x1f\x7f-\x9f\u2028\u2029]+")
# The invisible format characters (Cf) a report keeps: the joiners that emoji and
# Persian or Hindi words need. The others are dropped: bidirectional overrides (text
# shown in another order than it is stored), zero-width spaces and soft hyphens (which
# fold "Bad Gate\u200bway" apart from "Bad Gateway"), tags (hidden text).
_JOINERS = frozenset("\u200c\u200d")


class BadField(ValueError):
    """A field has the right type but a value a report may not hold."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


class ReportIn(msgspec.Struct, forbid_unknown_fields=True):
    """The body of `POST /api/v1/services/{slug}/reports`.

    msgspec decodes and type-checks a body in about a microsecond, where the standard
    library's json.loads and a pydantic model took 6 (bench/ingest.py); the value
    rules msgspec has no words for are checked here, after decoding.
    """

    category: Category
    region: str | None = None
    """ISO 3166-2, e.g. ID-JK (any case, surrounding spaces ignored)."""
    text: str | None = None
    """The error message seen, at most 280 characters."""

    def __post_init__(self) -> None:
        if self.region is not None:
            region = self.region.strip().upper()
            if region and region not in known_regions():
                raise BadField("region")
            self.region = region or None
        if self.text is not None:
            text = self.text
            if not text.isascii():
                # One spelling of each character, so that what must fit is what is seen:
                # "e" and a combining accent are one "é".
                text = unicodedata.normalize("NFC", text)
            if not text.isprintable():  # printable: no controls, the usual case
                text = "".join(c for c in text
                               if c in _JOINERS or unicodedata.category(c) != "Cf")
                text = _CONTROLS.sub(" ", text)
            text = text.strip()
            if len(text) > MAX_TEXT:
                raise BadField("text")
            self.text = text or None


_decoder = msgspec.json.Decoder(ReportIn)


class Invalid(ValueError):
    """Why a body is not a report: `field` names the culprit ("" for the body itself)."""

    def __init__(self, field: str, unknown: bool = False) -> None:
        super().__init__(field)
        self.field = field
        self.unknown = unknown


class Malformed(ValueError):
    """The body is not JSON (or not UTF-8): `at` is the byte where reading stopped."""

    def __init__(self, at: int | None, utf8: bool = False) -> None:
        super().__init__(at)
        self.at = at
        self.utf8 = utf8


_AT_FIELD = re.compile(r"`\$\.([^`]+)`|field `([^`]+)`")
_AT_BYTE = re.compile(r"\(byte (\d+)\)")


def _invalid(exc: msgspec.ValidationError) -> Invalid:
    if isinstance(exc.__cause__, BadField):
        return Invalid(exc.__cause__.field)
    message = str(exc)
    found = _AT_FIELD.search(message)
    field = (found.group(1) or found.group(2)) if found else ""
    return Invalid(field, unknown=message.startswith("Object contains unknown field"))


_BOM = b"\xef\xbb\xbf"


def decode_report(raw: bytes) -> ReportIn:
    """A JSON body as a report; `Malformed` or `Invalid` if it is none."""
    # A byte order mark (some Windows tools write one) is not part of the JSON: RFC 8259
    # lets a reader ignore it. Bytes are still counted from the start of the body.
    skipped = 3 if raw.startswith(_BOM) else 0
    try:
        return _decoder.decode(raw[skipped:] if skipped else raw)
    except msgspec.ValidationError as exc:
        raise _invalid(exc) from None
    except msgspec.DecodeError as exc:
        # A body that ends too early ("truncated") names no byte: it stopped at the end.
        found = _AT_BYTE.search(str(exc))
        raise Malformed(int(found.group(1)) + skipped if found else len(raw)) from None
    except UnicodeDecodeError:
        # msgspec counts from the start of the string it was reading; say where in the body.
        raise Malformed(_utf8_error(raw), utf8=True) from None


def _utf8_error(raw: bytes) -> int | None:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start
    return None


def decode_form(raw: bytes) -> ReportIn:
    """A urlencoded form body as a report; `Malformed` or `Invalid` if it is none."""
    at = _utf8_error(raw)
    if at is not None:
        raise Malformed(at, utf8=True)
    text = raw.decode("utf-8")
    try:
        fields = parse_qs(text, keep_blank_values=False, errors="strict")
    except UnicodeDecodeError:
        # A percent-escape that is not UTF-8 (%FF): said at the field that holds it.
        raise Malformed(_bad_escape(text), utf8=True) from None
    # A field given twice: the last, as in a JSON body (msgspec) and Starlette's forms.
    return _convert({k: v[-1] for k, v in fields.items() if k in FIELDS})


def _bad_escape(text: str) -> int | None:
    at = 0
    for part in text.split("&"):
        try:
            parse_qs(part, errors="strict")
        except UnicodeDecodeError:
            return len(text[:at].encode())
        at += len(part) + 1
    return None


def _convert(fields: dict[str, Any]) -> ReportIn:
    try:
        return msgspec.convert(fields, ReportIn)
    except msgspec.ValidationError as exc:
        raise _invalid(exc) from None


_NOISE = re.compile(r"\b(?=[0-9a-f-]*\d)[0-9a-f-]{8,}\b|\b\d{5,}\b")
_PUNCT = re.compile(r"[^\w\s]+")
_SPACE = re.compile(r"\s+")


@lru_cache(maxsize=4096)
def normalise_text(text: str | None) -> str | None:
    """Fold variants of the same message together: "Error 502: Bad Gateway (ray 8f2a…)".

    Lower case, Unicode-folded, ids and long numbers (ray ids, request ids) removed,
    punctuation dropped, whitespace collapsed, at most 80 characters. Cached: in an
    outage most people paste the same few messages.
    """
    if not text:
        return None
    folded = unicodedata.normalize("NFKC", text).casefold()
    folded = _NOISE.sub(" ", folded)
    folded = _PUNCT.sub(" ", folded)
    folded = _SPACE.sub(" ", folded).strip()
    return folded[:80].strip() or None
