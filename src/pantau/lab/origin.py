"""A service's origin server: the machine behind the CDN, which can fail in many ways.

It always speaks HTTPS (the lab CA signs its certificate for `origin.<slug>.pantau.test`
and `<slug>.pantau.test`, so both the edge and direct clients verify it). Certificate
faults are chosen per connection in the SNI callback, so a mode switch takes effect on
the next handshake; clients that send no SNI always get the good certificate.
Connection-level faults (refuse, blackhole) replace the listener on the same port.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import struct

from aiohttp import web

from pantau.lab.certs import LAB_DOMAIN, LabCertificates
from pantau.lab.modes import OriginMode

OK_MARKER = '<meta name="pantau-lab" content="ok">'
"""Present in every healthy page, so content checks can tell a good page from a bad 200."""

ORIGIN_SERVER = "pantau-lab-origin"
_LOGIN_PATHS = ("/login", "/api/login", "/auth")
_CLOSED = {OriginMode.REFUSE, OriginMode.UNREACHABLE}


class OriginServer:
    """One service's origin on 127.0.0.1:`port` (the port stays the same across modes)."""

    def __init__(self, slug: str, certs: LabCertificates, slow_seconds: float = 2.0) -> None:
        self.slug = slug
        self.host = f"origin.{slug}.{LAB_DOMAIN}"
        self.mode = OriginMode.HEALTHY
        self.generation = 0
        """Bumped at every mode switch, so clients holding pooled connections reconnect."""
        self.slow_seconds = slow_seconds
        self.port = 0
        self._certs = certs
        self._good = certs.server_context(self.host, f"{slug}.{LAB_DOMAIN}")
        self._good.sni_callback = self._pick_certificate
        self._faulty: dict[OriginMode, ssl.SSLContext] = {}
        self._runner: web.AppRunner | None = None
        self._site: web.SockSite | None = None
        self._blackhole: list[socket.socket] = []
        self._never = asyncio.Event()

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        app.on_response_prepare.append(_name_server)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        await self._listen()

    async def close(self) -> None:
        self._close_blackhole()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
            self._site = None

    async def set_mode(self, mode: OriginMode) -> None:
        if mode is self.mode:
            return
        self.mode = mode
        self.generation += 1
        await self._stop_listening()
        await self._listen()

    @property
    def url(self) -> str:
        return f"https://{self.host}:{self.port}/"

    async def _listen(self) -> None:
        if self.mode in _CLOSED:
            return
        if self.mode is OriginMode.BLACKHOLE:
            self._open_blackhole()
            return
        assert self._runner is not None
        self._site, self.port = await _serve_on(self._runner, self.port, self._good)

    async def _stop_listening(self) -> None:
        self._close_blackhole()
        if self._site is not None:
            await self._site.stop()
            self._site = None

    def _open_blackhole(self) -> None:
        # A listen queue of one that is already full: Linux drops further SYNs, so
        # connection attempts time out exactly like a firewalled or dead host.
        listener = bind_loopback(self.port)
        try:
            listener.listen(0)
            filler = socket.create_connection(("127.0.0.1", self.port), timeout=1)
        except BaseException:
            listener.close()
            raise
        self._blackhole = [listener, filler]

    def _close_blackhole(self) -> None:
        for sock in self._blackhole:
            sock.close()
        self._blackhole = []

    def _pick_certificate(
        self, sslobj: ssl.SSLObject, server_name: str | None, ctx: ssl.SSLContext
    ) -> int | None:
        if self.mode is OriginMode.TLS_HANDSHAKE:
            return ssl.ALERT_DESCRIPTION_HANDSHAKE_FAILURE
        if self.mode.is_tls:
            if self.mode not in self._faulty:
                self._faulty[self.mode] = self._certs.faulty_context(self.mode, self.host)
            sslobj.context = self._faulty[self.mode]
        return None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        mode = self.mode
        if mode is OriginMode.HANG:
            await self._never.wait()
        if mode is OriginMode.SLOW:
            await asyncio.sleep(self.slow_seconds)
        if mode in (OriginMode.RESET, OriginMode.EMPTY):
            drop_connection(request, reset=mode is OriginMode.RESET)
            # The connection is gone; aiohttp discards whatever is returned.
            return web.Response(status=500)
        if mode is OriginMode.HTTP_500 or (
            mode is OriginMode.LOGIN_BROKEN and request.path.startswith(_LOGIN_PATHS)
        ):
            return _page(500, "Internal Server Error", "The application hit an error.")
        if mode is OriginMode.HTTP_502:
            return _page(502, "Bad Gateway", "The load balancer found no healthy backend.")
        if mode is OriginMode.HTTP_504:
            return _page(504, "Gateway Timeout", "The load balancer timed out.")
        if mode is OriginMode.MAINTENANCE:
            return _page(
                503,
                "Down for maintenance",
                "We are performing scheduled maintenance and will be back soon.",
                {"Retry-After": "1800"},
            )
        if mode is OriginMode.OVERLOAD:
            return _page(
                429, "Too Many Requests", "We are receiving too many requests; retry later.",
                {"Retry-After": "30"},
            )
        if mode is OriginMode.WRONG_CONTENT:
            return _page(200, "Oops", "Something went wrong. Please try again later.")
        return self._healthy(request)

    def _healthy(self, request: web.Request) -> web.Response:
        if request.path.startswith("/api"):
            return web.json_response({"ok": True, "service": self.slug})
        body = (
            f"<!DOCTYPE html><html><head><title>{self.slug}</title>{OK_MARKER}</head>"
            f"<body><h1>{self.slug} is working</h1></body></html>"
        )
        return web.Response(text=body, content_type="text/html")


async def _name_server(request: web.Request, response: web.StreamResponse) -> None:
    # Say what we are rather than aiohttp's default, which a classifier might misread.
    response.headers["Server"] = ORIGIN_SERVER


def bind_loopback(port: int) -> socket.socket:
    """A listening-ready TCP socket on 127.0.0.1:`port` (0 picks a free port)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
    except BaseException:
        sock.close()  # a port already taken must not leave the socket open
        raise
    return sock


async def _serve_on(
    runner: web.AppRunner, port: int, ssl_context: ssl.SSLContext | None
) -> tuple[web.SockSite, int]:
    """Start a site of `runner` on 127.0.0.1:`port`: the site and the port it got."""
    sock = bind_loopback(port)
    try:
        site = web.SockSite(runner, sock, ssl_context=ssl_context)
        await site.start()
    except BaseException:
        sock.close()  # the server would have owned it; without one, nobody does
        raise
    return site, sock.getsockname()[1]


async def serve_loopback(
    app: web.Application, port: int = 0, ssl_context: ssl.SSLContext | None = None
) -> tuple[web.AppRunner, int]:
    """Serve `app` on 127.0.0.1:`port` (0 picks a free port): its runner, whose
    `cleanup()` stops it, and the port it got."""
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    try:
        _, port = await _serve_on(runner, port, ssl_context)
    except BaseException:
        await runner.cleanup()  # a port already taken must not leave the runner behind
        raise
    return runner, port


def _page(
    status: int, title: str, text: str, headers: dict[str, str] | None = None
) -> web.Response:
    body = f"<!DOCTYPE html><html><head><title>{title}</title></head><body><h1>{title}</h1>" \
        f"<p>{text}</p></body></html>"
    return web.Response(status=status, text=body, content_type="text/html", headers=headers)


def drop_connection(request: web.Request, reset: bool) -> None:
    """Close the client connection without answering: RST if `reset`, else FIN."""
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if reset and sock is not None:
        # Linger 0 turns close() into a TCP RST, which is what "connection reset" means.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
