"""A CDN edge in front of one origin, answering the way its personality's CDN does.

The edge really proxies over TLS to the origin (verifying the origin certificate
against the lab CA, as Cloudflare's "Full (strict)" mode does) and turns each real
failure it meets into that CDN's status code and error page: a refused connection,
a connect timeout, a read timeout, an empty answer, a failed handshake, a bad
certificate. Two origin faults cannot be produced on loopback and are read from the
origin's mode instead: "no route to the origin" and "the origin's name does not resolve".
"""

from __future__ import annotations

import ssl

import aiohttp
from aiohttp import web

from pantau.lab.cdn_pages import EdgeAnswer, Fault, passthrough_headers, render
from pantau.lab.certs import LAB_DOMAIN, LabCertificates
from pantau.lab.modes import EdgeMode, OriginMode, Personality
from pantau.lab.origin import OriginServer, serve_loopback

_EDGE_FAULTS = {
    EdgeMode.ERROR: Fault.EDGE_ERROR,
    EdgeMode.CHALLENGE: Fault.CHALLENGE,
    EdgeMode.BLOCK: Fault.BLOCK,
    EdgeMode.BLOCK_IP: Fault.BLOCK_IP,
    EdgeMode.RATE_LIMIT: Fault.RATE_LIMIT,
}
_KEEP_RETIRED = 8
_FORWARDED = ("content-type", "retry-after", "cache-control", "location", "server")


class EdgeServer:
    """The public face of a CDN-fronted service on 127.0.0.1:`port`."""

    def __init__(
        self,
        personality: Personality,
        origin: OriginServer,
        certs: LabCertificates,
        connect_timeout: float = 1.0,
        read_timeout: float = 5.0,
    ) -> None:
        if personality is Personality.NONE:
            raise ValueError("a service without a CDN has no edge")
        self.personality = personality
        self.origin = origin
        self.host = f"{origin.slug}.{LAB_DOMAIN}"
        self.mode = EdgeMode.HEALTHY
        self.port = 0
        self._certs = certs
        self._timeout = aiohttp.ClientTimeout(sock_connect=connect_timeout, sock_read=read_timeout)
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._generation = 0
        self._retired: list[aiohttp.ClientSession] = []

    @property
    def url(self) -> str:
        return f"https://{self.host}:{self.port}/"

    def _new_session(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(ssl=self._certs.client_context())
        self._generation = self.origin.generation
        return aiohttp.ClientSession(connector=connector, timeout=self._timeout)

    async def start(self) -> None:
        self._session = self._new_session()
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        ctx = self._certs.server_context(self.host, f"www.{self.host}")
        self._runner, self.port = await serve_loopback(app, ssl_context=ctx)

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        for session in [*self._retired, *([self._session] if self._session else [])]:
            await session.close()
        self._session = None
        self._retired = []

    def set_mode(self, mode: EdgeMode) -> None:
        self.mode = mode

    async def _handle(self, request: web.Request) -> web.Response:
        if self.mode is not EdgeMode.HEALTHY:
            return self._answer(render(self.personality, _EDGE_FAULTS[self.mode], self.host))
        emulated = {OriginMode.UNREACHABLE: Fault.UNREACHABLE, OriginMode.DNS_FAIL: Fault.DNS}
        if self.origin.mode in emulated:
            return self._answer(render(self.personality, emulated[self.origin.mode], self.host))
        try:
            return await self._proxy(request)
        except _UpstreamError as err:
            return self._answer(render(self.personality, err.fault, self.host))

    async def _proxy(self, request: web.Request) -> web.Response:
        assert self._session is not None
        if self._generation != self.origin.generation:
            # The origin changed mode: pooled connections (and their TLS sessions) would
            # hide the new behaviour, so start again from fresh connections. The old pool
            # is closed only at shutdown, so requests still in flight finish normally.
            self._retired.append(self._session)
            self._session = self._new_session()
            if len(self._retired) > _KEEP_RETIRED:
                await self._retired.pop(0).close()
        url = f"https://127.0.0.1:{self.origin.port}{request.path_qs}"
        try:
            async with self._session.request(
                request.method,
                url,
                server_hostname=self.origin.host,
                headers={"Host": self.origin.host},
                data=await request.read() or None,
                allow_redirects=False,
            ) as upstream:
                body = await upstream.read()
                status = upstream.status
                headers = {k: v for k, v in upstream.headers.items() if k.lower() in _FORWARDED}
        except aiohttp.ClientConnectorCertificateError as exc:
            raise _UpstreamError(Fault.TLS_CERT) from exc
        except (aiohttp.ClientConnectorSSLError, ssl.SSLError) as exc:
            raise _UpstreamError(Fault.TLS_HANDSHAKE) from exc
        except aiohttp.ConnectionTimeoutError as exc:
            raise _UpstreamError(Fault.CONNECT_TIMEOUT) from exc
        except aiohttp.SocketTimeoutError as exc:
            raise _UpstreamError(Fault.READ_TIMEOUT) from exc
        except aiohttp.ClientConnectorError as exc:
            # TCP connected but the connector still failed: the TLS handshake was cut.
            refused = isinstance(exc.os_error, ConnectionRefusedError)
            raise _UpstreamError(Fault.REFUSED if refused else Fault.TLS_HANDSHAKE) from exc
        except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError) as exc:
            raise _UpstreamError(Fault.EMPTY) from exc
        if self.personality is Personality.CLOUDFLARE and status in (502, 504):
            # Cloudflare replaces an origin's gateway errors with its own branded page.
            fault = Fault.BAD_GATEWAY if status == 502 else Fault.GATEWAY_TIMEOUT
            return self._answer(render(self.personality, fault, self.host))
        headers.update(passthrough_headers(self.personality, status))
        return web.Response(status=status, body=body, headers=headers)

    @staticmethod
    def _answer(answer: EdgeAnswer) -> web.Response:
        headers = {"content-type": "text/html; charset=utf-8", **answer.headers}
        return web.Response(status=answer.status, text=answer.body, headers=headers)


class _UpstreamError(Exception):
    def __init__(self, fault: Fault) -> None:
        super().__init__(fault.value)
        self.fault = fault
