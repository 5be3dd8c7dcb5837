"""The fault-layer classifier: one observation in, one explained verdict out.

Pure and deterministic. The order of the rules matters and encodes the diagnosis:
transport failures name their phase; then the CDN's own page (if any) says who failed;
a challenge or per-visitor block is `blocked`, never an outage; maintenance and load
shedding come before the generic status-code rules, which only catch what is left.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from pantau.probes import cdn as cdns
from pantau.probes.explain import explain
from pantau.probes.observation import Diagnosis, ErrorKind, Observation
from pantau.signals import Layer, ProbeVerdict

_TRANSPORT: dict[ErrorKind, tuple[Layer, str]] = {
    ErrorKind.TARGET_REFUSED: (Layer.CLIENT, "target_refused"),
    ErrorKind.NXDOMAIN: (Layer.DNS, "nxdomain"),
    ErrorKind.SERVFAIL: (Layer.DNS, "servfail"),
    ErrorKind.DNS_TIMEOUT: (Layer.DNS, "dns_timeout"),
    ErrorKind.NO_ADDRESS: (Layer.DNS, "no_address"),
    ErrorKind.CONNECT_REFUSED: (Layer.NETWORK, "connect_refused"),
    ErrorKind.CONNECT_TIMEOUT: (Layer.NETWORK, "connect_timeout"),
    ErrorKind.UNREACHABLE: (Layer.NETWORK, "unreachable"),
    ErrorKind.CERT_EXPIRED: (Layer.TLS, "certificate_expired"),
    ErrorKind.CERT_HOSTNAME: (Layer.TLS, "hostname_mismatch"),
    ErrorKind.CERT_UNTRUSTED: (Layer.TLS, "certificate_untrusted"),
    ErrorKind.TLS_HANDSHAKE: (Layer.TLS, "tls_handshake_failed"),
    ErrorKind.RESPONSE_TIMEOUT: (Layer.ORIGIN, "response_timeout"),
    ErrorKind.DISCONNECTED: (Layer.ORIGIN, "connection_dropped"),
    ErrorKind.TOO_MANY_REDIRECTS: (Layer.APP, "too_many_redirects"),
}

# Cloudflare's own 5xx codes when the host box is the one in error.
_CF_ORIGIN_CAUSE = {
    "502": "bad_gateway",
    "504": "gateway_timeout",
    "520": "bad_gateway",
    "521": "origin_unreachable",
    "522": "origin_unreachable",
    "523": "origin_unreachable",
    "524": "gateway_timeout",
    "525": "origin_tls",
    "526": "origin_tls",
    "530": "origin_dns",
    "1016": "origin_dns",
}
# Per-visitor refusals: access denied, banned, firewall rule, country block, rate limit.
_CF_VISITOR_BLOCKS = {"1005", "1006", "1007", "1008", "1009", "1010", "1012", "1020"}
_CF_VISITOR_RATE = {"1015"}


def classify(obs: Observation) -> Diagnosis:
    layer, cause, cdn, evidence = _decide(obs)
    return Diagnosis(
        layer=layer,
        cause=cause,
        cdn=cdn,
        evidence=evidence,
        explanation=explain(layer, cause, cdn, obs.status),
    )


def to_verdict(
    obs: Observation,
    diagnosis: Diagnosis,
    *,
    service: str,
    monitor: str,
    vantage: str,
    at: datetime,
    reliable: bool = True,
) -> ProbeVerdict:
    """The fusion stage's view of one classified check; evidence includes the timings."""
    return ProbeVerdict(
        service=service,
        monitor=monitor,
        vantage=vantage,
        at=at,
        ok=diagnosis.ok,
        layer=diagnosis.layer,
        cause=diagnosis.cause,
        cdn=diagnosis.cdn,
        status=obs.status,
        total_ms=obs.timings.total_ms,
        evidence={**diagnosis.evidence, "timings": obs.timings.as_dict()},
        reliable=reliable,
    )


_Decision = tuple[Layer, str, str | None, dict[str, object]]


def _decide(obs: Observation) -> _Decision:
    evidence: dict[str, object] = {"phase": obs.phase.value}
    if obs.addresses:
        evidence["addresses"] = list(obs.addresses)
    if obs.error is not None:
        evidence["error"] = obs.error.value
        if obs.error_detail:
            evidence["detail"] = obs.error_detail
        layer, cause = _TRANSPORT[obs.error]
        return layer, cause, None, evidence

    if obs.status is None:
        # A DNS, TCP or TLS check that completed: only its own assertions can fail.
        return (*_content(obs, evidence), None, evidence)
    status = obs.status
    edge = cdns.recognise(obs.headers, obs.body)
    evidence.update(_edge_evidence(obs, edge))
    by_edge = _by_edge_page(status, edge)
    if by_edge is not None:
        return by_edge[0], by_edge[1], edge.cdn, evidence
    return (*_by_status(obs, status, evidence), edge.cdn, evidence)


def _edge_evidence(obs: Observation, edge: cdns.EdgeFacts) -> dict[str, object]:
    facts: dict[str, object] = {"status": obs.status}
    for header in ("server", "via", "retry-after", "cf-cache-status", "x-cache"):
        if header in obs.headers:
            facts[header] = obs.headers[header]
    if edge.cdn is not None:
        facts["cdn_error_page"] = edge.error_page
    for name, value in (
        ("cdn_code", edge.code),
        ("failed_box", edge.failed_box),
        ("request_id", edge.request_id),
        ("pop", edge.pop),
    ):
        if value is not None:
            facts[name] = value
    if edge.challenge:
        facts["challenge"] = True
    if obs.tls is not None and obs.tls.days_to_expiry is not None:
        facts["cert_days_left"] = round(obs.tls.days_to_expiry, 1)
    return facts


def _by_edge_page(status: int, edge: cdns.EdgeFacts) -> tuple[Layer, str] | None:
    """Verdicts that only the CDN's own page can give."""
    if edge.challenge:
        return Layer.BLOCKED, "challenge"
    if not edge.error_page:
        return None
    if edge.cdn == cdns.CLOUDFLARE:
        return _cloudflare(status, edge)
    if edge.cdn == cdns.CLOUDFRONT:
        if status == 403 or (edge.access_denied and status < 500):
            return Layer.BLOCKED, "visitor_blocked"
        if status == 502 or edge.code == "origin_connect":
            return Layer.ORIGIN, "origin_unreachable"
        if status == 504 or edge.code == "origin_timeout":
            return Layer.ORIGIN, "gateway_timeout"
        return (Layer.EDGE, "edge_error") if status >= 500 else None
    if edge.cdn == cdns.FASTLY:
        if edge.code == "unknown_domain":
            return Layer.EDGE, "unknown_domain"
        if edge.code == "backend_unhealthy":
            return Layer.ORIGIN, "backend_unhealthy"
        if edge.code == "first_byte_timeout":
            return Layer.ORIGIN, "gateway_timeout"
        return (Layer.ORIGIN, "bad_gateway") if status >= 500 else None
    if edge.cdn == cdns.AKAMAI:
        if edge.access_denied or status == 403:
            return Layer.BLOCKED, "visitor_blocked"
        if status == 500:
            return Layer.EDGE, "edge_error"  # gateway errors name the origin, 500 the edge
        if status == 504:
            return Layer.ORIGIN, "gateway_timeout"
        return (Layer.ORIGIN, "bad_gateway") if status >= 500 else None
    # A bare proxy's stock page. Its own 500 means the proxy failed (an origin's 500
    # passes through with the origin's page); its gateway errors blame what is behind.
    if status == 500:
        return Layer.EDGE, "edge_error"
    if status == 504:
        return Layer.ORIGIN, "gateway_timeout"
    return (Layer.ORIGIN, "bad_gateway") if status in (502, 503) else None


def _cloudflare(status: int, edge: cdns.EdgeFacts) -> tuple[Layer, str] | None:
    code = edge.code or str(status)
    if code in _CF_VISITOR_BLOCKS:
        return Layer.BLOCKED, "visitor_blocked"
    if code in _CF_VISITOR_RATE:
        return Layer.BLOCKED, "visitor_rate_limited"
    if edge.failed_box == "browser":
        return Layer.CLIENT, "client_side"
    if edge.failed_box == "cloudflare":
        return Layer.EDGE, "edge_error"
    if edge.failed_box == "host" or code in _CF_ORIGIN_CAUSE:
        return Layer.ORIGIN, _CF_ORIGIN_CAUSE.get(code, "bad_gateway")
    if status >= 500:
        return Layer.EDGE, "edge_error"
    if status in (401, 403):
        return Layer.BLOCKED, "visitor_blocked"
    return None


def _by_status(obs: Observation, status: int, evidence: dict[str, object]) -> tuple[Layer, str]:
    """Generic rules for responses no CDN page explained."""
    headers: Mapping[str, str] = obs.headers
    retry_after = "retry-after" in headers
    if status in (503, 502, 500) and "maintenance" in obs.body.lower():
        return Layer.MAINTENANCE, "maintenance"
    if obs.expected_status and status in obs.expected_status:
        return _content(obs, evidence)
    if status == 429:
        # With Retry-After the service sheds load for everyone; without it, it is
        # throttling this client (per-visitor limit), which is not an outage.
        return (Layer.OVERLOAD, "rate_limited") if retry_after else (
            Layer.BLOCKED, "visitor_rate_limited")
    if status == 503 and retry_after:
        return Layer.OVERLOAD, "service_unavailable"
    if status in (502, 504):
        # By definition a gateway answered on behalf of a server behind it that failed.
        return Layer.ORIGIN, "bad_gateway" if status == 502 else "gateway_timeout"
    if status >= 500:
        return Layer.APP, "server_error"
    if status in (401, 403, 451):
        return Layer.BLOCKED, "visitor_blocked"
    if obs.expected_status or not 200 <= status < 400:
        return Layer.APP, "unexpected_status"
    return _content(obs, evidence)


def _content(obs: Observation, evidence: dict[str, object]) -> tuple[Layer, str]:
    if obs.failed_assertions:
        evidence["failed_assertions"] = list(obs.failed_assertions)
        return Layer.APP, "content_mismatch"
    days = obs.tls.days_to_expiry if obs.tls is not None else None
    if days is not None and obs.min_cert_days is not None and days < obs.min_cert_days:
        return Layer.TLS, "certificate_expiring"
    total = obs.timings.total_ms
    if obs.slow_ms is not None and total is not None and total > obs.slow_ms:
        evidence["slow_ms"] = obs.slow_ms
        return Layer.OVERLOAD, "slow_response"
    return Layer.NONE, "ok"
