"""A tiny programmable status page server on loopback for the official tests."""

from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import dataclass, field

from aiohttp import web


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = "application/json"
    delay: float = 0.0
    truncate: bool = False
    """Promise more bytes than are sent, then hang up."""
    conditional: bool = True
    drip: float = 0.0
    """Send the body one byte every `drip` seconds."""


@dataclass
class PageServer:
    routes: dict[str, Route] = field(default_factory=dict)
    hits: dict[str, int] = field(default_factory=dict)
    not_modified: int = 0
    base: str = ""
    _hit: asyncio.Event = field(default_factory=asyncio.Event)

    async def wait_hits(self, total: int) -> None:
        """Until the server has answered `total` requests in all."""
        while sum(self.hits.values()) < total:
            self._hit.clear()
            await asyncio.wait_for(self._hit.wait(), timeout=10)

    def json(self, path: str, doc: object, **kw: object) -> None:
        self.routes[path] = Route(json.dumps(doc).encode(), **kw)  # type: ignore[arg-type]

    def raw(self, path: str, body: bytes, **kw: object) -> None:
        self.routes[path] = Route(body, **kw)  # type: ignore[arg-type]

    async def handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        self.hits[path] = self.hits.get(path, 0) + 1
        self._hit.set()
        route = self.routes.get(path)
        if route is None:
            return web.Response(status=404, text="not found")
        if route.delay:
            await asyncio.sleep(route.delay)
        etag = '"' + hashlib.sha256(route.body).hexdigest()[:16] + '"'
        matches = request.headers.get("If-None-Match") == etag
        if route.conditional and route.status == 200 and matches:
            self.not_modified += 1
            return web.Response(status=304, headers={"ETag": etag})
        if route.drip:
            resp = web.StreamResponse(status=200, headers={"Content-Type": route.content_type})
            resp.content_length = len(route.body)
            await resp.prepare(request)
            for i in range(len(route.body)):
                await resp.write(route.body[i : i + 1])
                await asyncio.sleep(route.drip)
            return resp
        if route.truncate:
            resp = web.StreamResponse(status=200, headers={"Content-Type": route.content_type})
            resp.content_length = len(route.body) + 1000
            await resp.prepare(request)
            await resp.write(route.body)
            assert request.transport is not None
            request.transport.close()
            return resp
        headers = {"ETag": etag} if route.conditional else {}
        return web.Response(
            status=route.status,
            body=route.body,
            content_type=route.content_type.split(";")[0],
            headers=headers,
        )
