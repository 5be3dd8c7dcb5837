"""What a report may contain, and the normalised form of its error text."""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum
from functools import lru_cache
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

MAX_TEXT = 280


class Category(StrEnum):
    WEBSITE = "website"
    APP = "app"
    LOGIN = "login"
    API = "api"
    PAYMENTS = "payments"
    MESSAGES = "messages"
    OTHER = "other"


Region = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")]


class ReportIn(BaseModel):
    """The body of `POST /api/v1/services/{slug}/reports`."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    category: Category
    region: Region | None = Field(None, description="ISO 3166-2, e.g. ID-JK")
    text: str | None = Field(None, max_length=MAX_TEXT, description="the error message seen")

    @field_validator("region", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip().upper()
            return value or None
        return value

    @field_validator("text")
    @classmethod
    def _printable(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if value.isprintable():  # no Other (C*) characters at all: the common case
            return value or None
        # Control characters have no place in an error message and break displays.
        cleaned = "".join(c for c in value if unicodedata.category(c)[0] != "C" or c == " ")
        return cleaned or None


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
