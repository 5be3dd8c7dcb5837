"""Content checks on a response body: keyword, regular expression, JSON path."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ContentRules:
    keyword: str | None = None
    regex: str | None = None
    json_path: str | None = None
    """Dotted path into a JSON body, list indexes as numbers: `data.0.status`."""
    json_equals: str | None = None
    """When set, the value at `json_path` (as text) must equal this; else it must exist."""

    @property
    def empty(self) -> bool:
        return self.keyword is None and self.regex is None and self.json_path is None

    def failures(self, body: str) -> tuple[str, ...]:
        failed: list[str] = []
        if self.keyword is not None and self.keyword not in body:
            failed.append(f"keyword {self.keyword!r} missing")
        if self.regex is not None and re.search(self.regex, body) is None:
            failed.append(f"regex {self.regex!r} did not match")
        if self.json_path is not None:
            problem = _json_failure(body, self.json_path, self.json_equals)
            if problem is not None:
                failed.append(problem)
        return tuple(failed)


_MISSING = object()


def _json_failure(body: str, path: str, equals: str | None) -> str | None:
    try:
        value: object = json.loads(body)
    except ValueError:
        return "body is not JSON"
    for part in path.split("."):
        if isinstance(value, dict):
            value = value.get(part, _MISSING)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            value = _MISSING
        if value is _MISSING:
            return f"JSON path {path!r} missing"
    if equals is not None:
        text = value if isinstance(value, str) else json.dumps(value)
        if text != equals:
            return f"JSON path {path!r} is {text!r}, expected {equals!r}"
    return None
