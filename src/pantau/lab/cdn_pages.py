"""What each CDN personality answers when something is wrong.

The wording of every page is the lab's own; the identifiers, headers and status
codes are the ones real CDNs use, because the probe classifier reads exactly those
(the marker contract in the house brief, documented in docs/scenarios.md).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from enum import StrEnum
from html import escape

from pantau.lab.modes import Personality


class Fault(StrEnum):
    """Why the edge cannot hand back a good origin answer (or refuses this visitor)."""

    REFUSED = "refused"
    CONNECT_TIMEOUT = "connect_timeout"
    UNREACHABLE = "unreachable"
    READ_TIMEOUT = "read_timeout"
    EMPTY = "empty"
    TLS_HANDSHAKE = "tls_handshake"
    TLS_CERT = "tls_cert"
    DNS = "dns"
    BAD_GATEWAY = "bad_gateway"
    GATEWAY_TIMEOUT = "gateway_timeout"
    EDGE_ERROR = "edge_error"
    CHALLENGE = "challenge"
    BLOCK = "block"
    BLOCK_IP = "block_ip"
    RATE_LIMIT = "rate_limit"


@dataclass(frozen=True)
class EdgeAnswer:
    status: int
    body: str
    headers: dict[str, str] = field(default_factory=dict)


_TIMEOUTS = {Fault.CONNECT_TIMEOUT, Fault.READ_TIMEOUT, Fault.GATEWAY_TIMEOUT}
_VISITOR = {Fault.CHALLENGE, Fault.BLOCK, Fault.BLOCK_IP, Fault.RATE_LIMIT}

# Cloudflare's documented origin error codes, and what each one means in our words.
_CF_CODES: dict[Fault, tuple[int, str]] = {
    Fault.EMPTY: (520, "Web server is returning an unknown error"),
    Fault.REFUSED: (521, "Web server is down"),
    Fault.CONNECT_TIMEOUT: (522, "Connection timed out"),
    Fault.UNREACHABLE: (523, "Origin is unreachable"),
    Fault.READ_TIMEOUT: (524, "A timeout occurred"),
    Fault.TLS_HANDSHAKE: (525, "SSL handshake failed"),
    Fault.TLS_CERT: (526, "Invalid SSL certificate"),
    Fault.BAD_GATEWAY: (502, "Bad gateway"),
    Fault.GATEWAY_TIMEOUT: (504, "Gateway time-out"),
    Fault.DNS: (530, "Origin DNS error"),
    Fault.EDGE_ERROR: (500, "Internal server error"),
}
_CF_VISITOR: dict[Fault, tuple[int, int, str]] = {
    Fault.BLOCK: (403, 1020, "Access denied"),
    Fault.BLOCK_IP: (403, 1006, "Access denied: your address has been banned"),
    Fault.RATE_LIMIT: (429, 1015, "You are being rate limited"),
}
_COLOS = ("CGK", "SIN", "HKG", "NRT", "FRA", "AMS", "IAD", "LAX")
_POPS = ("CGK50-C1", "SIN2-C1", "HKG62-P2", "NRT57-C3", "FRA56-P4")


def render(personality: Personality, fault: Fault, host: str) -> EdgeAnswer:
    """The answer `personality` gives for `fault` on a request for `host`."""
    if personality is Personality.CLOUDFLARE:
        return _cloudflare(fault, host)
    if personality is Personality.CLOUDFRONT:
        return _cloudfront(fault)
    if personality is Personality.FASTLY:
        return _fastly(fault, host)
    if personality is Personality.AKAMAI:
        return _akamai(fault)
    if personality is Personality.NGINX:
        return _nginx(fault)
    raise ValueError("a service without a CDN has no edge pages")


def passthrough_headers(personality: Personality, status: int) -> dict[str, str]:
    """Headers the CDN adds to an origin answer it forwards unchanged."""
    if personality is Personality.CLOUDFLARE:
        return _cf_headers()
    if personality is Personality.CLOUDFRONT:
        cache = "Error from cloudfront" if status >= 400 else "Miss from cloudfront"
        return _cloudfront_headers(cache)
    if personality is Personality.FASTLY:
        return _fastly_headers()
    if personality is Personality.AKAMAI:
        return {"server": "AkamaiGHost"}
    return {"server": "nginx"}


def _cf_headers() -> dict[str, str]:
    ray = f"{secrets.token_hex(8)}-{secrets.choice(_COLOS)}"
    return {"server": "cloudflare", "cf-ray": ray, "cf-cache-status": "DYNAMIC"}


def _cf_box(box_id: str, name: str, failing: bool) -> str:
    cls = "cf-status-box cf-error-source" if failing else "cf-status-box"
    state = "Error" if failing else "Working"
    return (
        f'<div id="{box_id}" class="{cls}"><h3>{name}</h3>'
        f'<p class="cf-status-text">{state}</p></div>'
    )


def _cloudflare(fault: Fault, host: str) -> EdgeAnswer:
    headers = _cf_headers()
    ray = headers["cf-ray"].split("-")[0]
    if fault is Fault.CHALLENGE:
        headers["cf-mitigated"] = "challenge"
        body = (
            "<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>"
            f"<p>Checking that your browser may visit {escape(host)}.</p>"
            f"<p>Cloudflare Ray ID: {ray}</p></body></html>"
        )
        return EdgeAnswer(403, body, headers)
    if fault in _CF_VISITOR:
        status, code, what = _CF_VISITOR[fault]
        body = (
            f"<!DOCTYPE html><html><head><title>{what} | {escape(host)}</title></head><body>"
            f'<h1><span class="cf-error-type">Error</span> '
            f'<span class="cf-error-code">{code}</span></h1>'
            f"<h2>{what}</h2><p>Error {code}: the owner of {escape(host)} does not let "
            f"this visitor in right now.</p><p>Cloudflare Ray ID: {ray}</p></body></html>"
        )
        return EdgeAnswer(status, body, headers)
    status, what = _CF_CODES[fault]
    edge_failed = fault is Fault.EDGE_ERROR
    extra = "<p>Error 1016: the origin's name could not be resolved.</p>" if status == 530 else ""
    body = (
        f"<!DOCTYPE html><html><head><title>{escape(host)} | {status}: {what}</title>"
        f"</head><body><h1>{what} "
        f'<span class="cf-error-type">Error code</span> '
        f'<span class="cf-error-code">{status}</span></h1>{extra}'
        + _cf_box("cf-browser-status", "You", False)
        + _cf_box("cf-cloudflare-status", "Cloudflare", edge_failed)
        + _cf_box("cf-host-status", escape(host), not edge_failed)
        + f"<p>Cloudflare Ray ID: {ray}</p></body></html>"
    )
    return EdgeAnswer(status, body, headers)


def _cloudfront_headers(cache: str) -> dict[str, str]:
    return {
        "server": "CloudFront",
        "x-cache": cache,
        "x-amz-cf-pop": secrets.choice(_POPS),
        "x-amz-cf-id": secrets.token_urlsafe(42)[:56],
        "via": f"1.1 {secrets.token_hex(16)}.cloudfront.net (CloudFront)",
    }


def _cloudfront(fault: Fault) -> EdgeAnswer:
    headers = _cloudfront_headers("Error from cloudfront")
    if fault in _VISITOR:
        status, why = 403, "The request was blocked for this visitor."
        if fault is Fault.RATE_LIMIT:
            status, why = 429, "Too many requests from this visitor."
    elif fault is Fault.EDGE_ERROR:
        status, why = 500, "CloudFront encountered an internal error at the edge location."
    elif fault in _TIMEOUTS:
        status, why = 504, "The origin timed out: CloudFront waited and got no answer."
    else:
        status, why = 502, "CloudFront could not connect to the origin for this request."
    body = (
        f"<!DOCTYPE HTML><html><head><title>ERROR: The request could not be satisfied"
        f"</title></head><body><h1>{status} ERROR</h1>"
        f"<h2>The request could not be satisfied.</h2><p>{why}</p><hr>"
        f"<p>Generated by cloudfront (CloudFront)<br>Request ID: {headers['x-amz-cf-id']}"
        f"</p></body></html>"
    )
    return EdgeAnswer(status, body, headers)


def _fastly_headers() -> dict[str, str]:
    pop = secrets.choice(("SIN", "HKG", "NRT", "FRA", "IAD"))
    return {
        "via": "1.1 varnish",
        "x-served-by": f"cache-{pop.lower()}{secrets.randbelow(9000) + 1000}-{pop}",
        "x-cache": "MISS",
    }


def _fastly(fault: Fault, host: str) -> EdgeAnswer:
    # Fastly's own (synthetic) answers name Varnish as the server.
    headers = {**_fastly_headers(), "server": "Varnish"}
    if fault is Fault.EDGE_ERROR:
        body = f"Fastly error: unknown domain: {host}. Please check the domain is configured."
        return EdgeAnswer(500, body, {**headers, "content-type": "text/plain"})
    if fault in _VISITOR:
        status = 429 if fault is Fault.RATE_LIMIT else 403
        return EdgeAnswer(status, f"Error {status} Forbidden for this client", headers)
    reason = "first byte timeout" if fault in _TIMEOUTS else "Backend is unhealthy"
    guru = f"{secrets.randbelow(10**9)} {secrets.randbelow(10**9)}"
    body = (
        f"<!DOCTYPE html><html><head><title>503 {reason}</title></head><body>"
        f"<h1>Error 503 {reason}</h1><p>{reason}</p><h3>Guru Mediation:</h3>"
        f"<p>Details: cache-{headers['x-served-by'][6:]} {guru}</p>"
        f"<hr><p>Varnish cache server</p></body></html>"
    )
    return EdgeAnswer(503, body, headers)


def _akamai_reference() -> str:
    # Akamai writes the reference with HTML entities; readers see "Reference #18.…".
    # Both spellings are emitted so a classifier matching either form finds it.
    ref = f"18.{secrets.token_hex(4)}.{secrets.randbelow(10**10)}.{secrets.token_hex(4)}"
    return f"Reference&#32;&#35;{ref}<!-- Reference #{ref} -->"


def _akamai(fault: Fault) -> EdgeAnswer:
    headers = {"server": "AkamaiGHost", "content-type": "text/html"}
    if fault in _VISITOR:
        status = 429 if fault is Fault.RATE_LIMIT else 403
        body = (
            "<HTML><HEAD><TITLE>Access Denied</TITLE></HEAD><BODY><H1>Access Denied</H1>"
            f"You may not reach this page from here.<P>{_akamai_reference()}</BODY></HTML>"
        )
        return EdgeAnswer(status, body, headers)
    if fault is Fault.EDGE_ERROR:
        status, title = 500, "Internal Server Error"
    elif fault in _TIMEOUTS:
        status, title = 504, "Gateway Timeout"
    else:
        status, title = 503, "Service Unavailable"
    body = (
        f"<HTML><HEAD><TITLE>{title}</TITLE></HEAD><BODY><H1>{title}</H1>"
        "An error occurred while processing your request.<p>"
        f"{_akamai_reference()}</BODY></HTML>"
    )
    return EdgeAnswer(status, body, headers)


def _nginx(fault: Fault) -> EdgeAnswer:
    if fault in _VISITOR:
        status, title = (429, "429 Too Many Requests") if fault is Fault.RATE_LIMIT else (
            403,
            "403 Forbidden",
        )
    elif fault is Fault.EDGE_ERROR:
        status, title = 500, "500 Internal Server Error"
    elif fault in _TIMEOUTS:
        status, title = 504, "504 Gateway Time-out"
    else:
        status, title = 502, "502 Bad Gateway"
    body = (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n"
        "</body>\r\n</html>\r\n"
    )
    return EdgeAnswer(status, body, {"server": "nginx", "content-type": "text/html"})
