"""JSON reports answered before the application and all of its layers (issue 5).

At outage scale the report endpoint takes nearly all the traffic, and FastAPI's own
layers (telemetry checks, body limits, error middleware), routing over every page and
dependency solving cost more CPU than the report itself (bench/ingest.py). The checks
and answers are `reports.accept`'s, as for `reports.post_report`; forms and everything
else go to the app.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import Request
from starlette.requests import cookie_parser
from starlette.types import Receive, Scope, Send

from pantau.web.errors import FORM_TYPE, media_type
from pantau.web.render import YEAR, reader_language
from pantau.web.reports import (
    CLIENT_COOKIE,
    CLIENT_HEADER,
    MAX_REPORT_BYTES,
    Endpoint,
    Refused,
    accept,
    client_of,
    endpoint_of,
    forwarded_lines,
    over_https,
)

_REPORT_PATH = re.compile(r"^/api/v1/services/([a-z0-9-]+)/reports$")
_JSON_HEADERS = [(b"content-type", b"application/json")]
_CLIENT_HEADER = CLIENT_HEADER.encode()
_COOKIE_SET = f"{CLIENT_COOKIE}=%s; Max-Age={YEAR}; Path=/; SameSite=lax; HttpOnly".encode()


class FastReports:
    """The bypass itself: `take` answers a JSON report, or leaves the request to the app."""

    def __init__(self, state: Any) -> None:
        self._state = state
        # The app's endpoint, kept: reading it from Starlette's `State` costs a failed
        # attribute look-up (an exception caught) per report, 0.7 us.
        self._endpoint: Endpoint | None = None

    async def take(self, scope: Scope, receive: Receive, send: Send) -> bool:
        """Answer `scope` if it is a JSON report; False to leave it to the app."""
        if scope["type"] != "http" or scope["method"] != "POST":
            return False
        match = _REPORT_PATH.match(scope["path"])
        if match is None:
            return False
        raw_headers = scope["headers"]
        # The first line of a header given twice, as Starlette (the form's path) reads it.
        headers = dict(reversed(raw_headers))
        content_type = headers.get(b"content-type", b"").decode("latin-1")
        if content_type != "application/json":
            content_type = media_type(content_type)
            if content_type == FORM_TYPE:
                return False
        cookie = headers.get(b"cookie")
        client_id, new_client = client_of((
            cookie_parser(cookie.decode("latin-1")).get(CLIENT_COOKIE) if cookie else None
        ) or headers.get(_CLIENT_HEADER, b"").decode("latin-1") or None)
        endpoint = self._endpoint
        if endpoint is None or endpoint.closed:
            endpoint = self._endpoint = endpoint_of(self._state)
        client = scope.get("client")
        peer = client[0] if client else None
        extra: list[tuple[bytes, bytes]] = []
        if new_client:  # as in `post_report`
            secure = (b"; Secure" if over_https(scope.get("scheme", "http"), peer, headers,
                                                endpoint.ingest) else b"")
            extra.append((b"set-cookie", _COOKIE_SET % client_id.encode() + secure))
        forwarded = headers.get(b"x-forwarded-for")
        if forwarded is None:
            forwarded_for = None
        elif len(headers) == len(raw_headers):
            # No header name came twice, so this is the only line: nothing to join.
            forwarded_for = forwarded.decode("latin-1")
        else:
            forwarded_for = forwarded_lines(raw_headers)
        try:
            declared = headers.get(b"content-length")
            if declared is not None and declared.isdigit() and int(declared) > MAX_REPORT_BYTES:
                # Refused before the body is waited for: a client that says it sends more
                # than a report may hold is answered now, not once it has sent it all.
                raise Refused(413, "too_large")
            raw = await _read_body(receive)
            report_id = await accept(
                endpoint,
                match.group(1),
                raw,
                content_type,
                client_id=client_id,
                peer=peer,
                forwarded_for=forwarded_for,
                headers=headers,
            )
        except Refused as exc:
            if exc.retry_after:
                extra.append((b"retry-after", str(exc.retry_after).encode()))
            body = exc.body(reader_language(Request(scope)))
            await _send(send, exc.status_code, body, extra)
        else:
            # The id is hex: no escaping needed, and no encoder on the busiest answer.
            await _send(send, 202, b'{"id":"' + report_id.encode() + b'"}', extra)
        return True


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise Refused(400, "client_gone")
        body: bytes = message.get("body", b"")
        size += len(body)
        if size > MAX_REPORT_BYTES:
            raise Refused(413, "too_large")
        if not message.get("more_body", False):
            return b"".join([*chunks, body]) if chunks else body
        chunks.append(body)


async def _send(send: Send, status: int, body: bytes, extra: list[tuple[bytes, bytes]]) -> None:
    headers = [*_JSON_HEADERS, (b"content-length", str(len(body)).encode()), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
