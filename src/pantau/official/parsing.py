"""Shared helpers for adapters: strict JSON validation with readable errors."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from pantau.official import errors
from pantau.official.model import DIGEST_PREFIX

M = TypeVar("M", bound=BaseModel)


class Lenient(BaseModel):
    """Vendors add fields all the time; unknown ones are ignored, known ones checked."""

    model_config = ConfigDict(extra="ignore", frozen=True)


def validate_json(model: type[M], url: str, body: bytes) -> M:
    """Parse `body` as `model`, turning pydantic's report into one clear sentence."""
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        if first["type"] == "json_invalid":
            detail = str(first.get("ctx", {}).get("error", first["msg"]))
            if "EOF" in detail:
                raise errors.truncated(url, detail) from None
            raise errors.malformed(url, f"not valid JSON ({detail})") from None
        where = ".".join(str(p) for p in first["loc"]) or "document"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise errors.malformed(url, f"{where}: {first['msg']}{more}") from None


def digest_key(*parts: object) -> str:
    """A stable id for an update that carries none of its own."""
    raw = "\x1f".join("" if p is None else str(p) for p in parts)
    return DIGEST_PREFIX + hashlib.sha256(raw.encode()).hexdigest()[:24]


def earliest(*times: datetime | None) -> datetime | None:
    known = [t for t in times if t is not None]
    return min(known) if known else None
