from __future__ import annotations

import pytest
from probe_pages import (
    AKAMAI_HEADERS,
    CF_CHALLENGE,
    CF_HEADERS,
    CLOUDFRONT_HEADERS,
    FASTLY_HEADERS,
    akamai_page,
    cloudflare_page,
    cloudfront_page,
    fastly_page,
    nginx_page,
)

from pantau.probes.classify import classify
from pantau.probes.explain import known_causes
from pantau.probes.observation import ErrorKind, Observation, Phase, Timings, TlsFacts
from pantau.signals import Layer

URL = "https://chat.pantau.test/"


def seen(status: int, headers: dict[str, str], body: str = "", **kw: object) -> Observation:
    return Observation(url=URL, phase=Phase.DONE, status=status, headers=headers, body=body, **kw)  # type: ignore[arg-type]


CASES = [
    # (name, observation, layer, cause, cdn)
    ("healthy", seen(200, {"server": "gunicorn"}, "<html>hi</html>"), Layer.NONE, "ok", None),
    ("cf healthy", seen(200, CF_HEADERS, "<html>hi</html>"), Layer.NONE, "ok", "cloudflare"),
    ("cf 502 host", seen(502, CF_HEADERS, cloudflare_page(502, "host")),
     Layer.ORIGIN, "bad_gateway", "cloudflare"),
    ("cf 504 host", seen(504, CF_HEADERS, cloudflare_page(504, "host")),
     Layer.ORIGIN, "gateway_timeout", "cloudflare"),
    ("cf 521", seen(521, CF_HEADERS, cloudflare_page(521, "host")),
     Layer.ORIGIN, "origin_unreachable", "cloudflare"),
    ("cf 522", seen(522, CF_HEADERS, cloudflare_page(522, "host")),
     Layer.ORIGIN, "origin_unreachable", "cloudflare"),
    ("cf 525", seen(525, CF_HEADERS, cloudflare_page(525, "host")),
     Layer.ORIGIN, "origin_tls", "cloudflare"),
    ("cf 530/1016", seen(530, CF_HEADERS, cloudflare_page(530, "host", one_k="1016")),
     Layer.ORIGIN, "origin_dns", "cloudflare"),
    ("cf 500 edge", seen(500, CF_HEADERS, cloudflare_page(500, "cloudflare")),
     Layer.EDGE, "edge_error", "cloudflare"),
    ("cf challenge", seen(403, {**CF_HEADERS, "cf-mitigated": "challenge"}, CF_CHALLENGE),
     Layer.BLOCKED, "challenge", "cloudflare"),
    ("cf 1020", seen(403, CF_HEADERS, cloudflare_page(403, "browser", one_k="1020")),
     Layer.BLOCKED, "visitor_blocked", "cloudflare"),
    ("cf 1006", seen(403, CF_HEADERS, cloudflare_page(403, "browser", one_k="1006")),
     Layer.BLOCKED, "visitor_blocked", "cloudflare"),
    ("cf 1015", seen(429, CF_HEADERS, cloudflare_page(429, "browser", one_k="1015")),
     Layer.BLOCKED, "visitor_rate_limited", "cloudflare"),
    ("cf passes origin 500", seen(500, CF_HEADERS, "<h1>Internal error</h1>"),
     Layer.APP, "server_error", "cloudflare"),
    ("cloudfront 502", seen(502, CLOUDFRONT_HEADERS,
                            cloudfront_page(502, "CloudFront could not connect to the origin.")),
     Layer.ORIGIN, "origin_unreachable", "cloudfront"),
    ("cloudfront 504", seen(504, CLOUDFRONT_HEADERS,
                            cloudfront_page(504, "The origin timed out.")),
     Layer.ORIGIN, "gateway_timeout", "cloudfront"),
    ("cloudfront 403", seen(403, CLOUDFRONT_HEADERS, cloudfront_page(403, "Blocked.")),
     Layer.BLOCKED, "visitor_blocked", "cloudfront"),
    ("fastly unhealthy", seen(503, FASTLY_HEADERS, fastly_page("Backend is unhealthy")),
     Layer.ORIGIN, "backend_unhealthy", "fastly"),
    ("fastly fbt", seen(503, FASTLY_HEADERS, fastly_page("first byte timeout")),
     Layer.ORIGIN, "gateway_timeout", "fastly"),
    ("fastly unknown domain", seen(500, FASTLY_HEADERS,
                                   "<p>Fastly error: unknown domain: chat.pantau.test</p>"),
     Layer.EDGE, "unknown_domain", "fastly"),
    ("akamai 503", seen(503, AKAMAI_HEADERS, akamai_page("Service Unavailable")),
     Layer.ORIGIN, "bad_gateway", "akamai"),
    ("akamai 504", seen(504, AKAMAI_HEADERS, akamai_page("Gateway Timeout")),
     Layer.ORIGIN, "gateway_timeout", "akamai"),
    ("akamai denied", seen(403, AKAMAI_HEADERS, akamai_page("Access Denied")),
     Layer.BLOCKED, "visitor_blocked", "akamai"),
    ("cloudfront passes origin 500",
     seen(500, CLOUDFRONT_HEADERS, "<h1>Application error</h1>"), Layer.APP, "server_error",
     "cloudfront"),
    ("cloudfront edge 500", seen(500, CLOUDFRONT_HEADERS,
                                 cloudfront_page(500, "Internal error at the edge.")),
     Layer.EDGE, "edge_error", "cloudfront"),
    ("akamai edge 500", seen(500, AKAMAI_HEADERS, akamai_page("Internal Server Error")),
     Layer.EDGE, "edge_error", "akamai"),
    ("nginx own 500", seen(500, {"server": "nginx"}, nginx_page("500 Internal Server Error")),
     Layer.EDGE, "edge_error", "nginx"),
    ("nginx 429", seen(429, {"server": "nginx"}, nginx_page("429 Too Many Requests")),
     Layer.BLOCKED, "visitor_rate_limited", "nginx"),
    ("nginx 502", seen(502, {"server": "nginx"}, nginx_page("502 Bad Gateway")),
     Layer.ORIGIN, "bad_gateway", "nginx"),
    ("nginx 504", seen(504, {"server": "nginx/1.27"}, nginx_page("504 Gateway Time-out")),
     Layer.ORIGIN, "gateway_timeout", "nginx"),
    ("maintenance", seen(503, {"retry-after": "600"}, "<h1>Scheduled maintenance</h1>"),
     Layer.MAINTENANCE, "maintenance", None),
    ("cf maintenance passthrough",
     seen(503, {**CF_HEADERS, "retry-after": "600"}, "<p>We are down for maintenance</p>"),
     Layer.MAINTENANCE, "maintenance", "cloudflare"),
    ("overload 429", seen(429, {"retry-after": "30"}), Layer.OVERLOAD, "rate_limited", None),
    ("client 429", seen(429, {}), Layer.BLOCKED, "visitor_rate_limited", None),
    ("overload 503", seen(503, {"retry-after": "30"}, "busy"),
     Layer.OVERLOAD, "service_unavailable", None),
    ("plain 500", seen(500, {}, "oops"), Layer.APP, "server_error", None),
    ("plain 503", seen(503, {}, "oops"), Layer.APP, "server_error", None),
    ("unknown 502", seen(502, {}, ""), Layer.ORIGIN, "bad_gateway", None),
    ("plain 404", seen(404, {}, ""), Layer.APP, "unexpected_status", None),
    ("plain 403", seen(403, {}, ""), Layer.BLOCKED, "visitor_blocked", None),
    ("expected 401", seen(401, {}, "", expected_status=(200, 401)), Layer.NONE, "ok", None),
    ("unexpected 200", seen(200, {}, "", expected_status=(204,)),
     Layer.APP, "unexpected_status", None),
    ("content", seen(200, {}, "x", failed_assertions=("keyword 'ok' missing",)),
     Layer.APP, "content_mismatch", None),
    ("slow", seen(200, {}, "", slow_ms=500.0, timings=Timings(total_ms=900.0)),
     Layer.OVERLOAD, "slow_response", None),
    ("fast enough", seen(200, {}, "", slow_ms=500.0, timings=Timings(total_ms=90.0)),
     Layer.NONE, "ok", None),
    ("cert soon", seen(200, {}, "", tls=TlsFacts(days_to_expiry=3.0), min_cert_days=7.0),
     Layer.TLS, "certificate_expiring", None),
]


@pytest.mark.parametrize(("name", "obs", "layer", "cause", "cdn"), CASES, ids=[c[0] for c in CASES])
def test_response_classification(
    name: str, obs: Observation, layer: Layer, cause: str, cdn: str | None
) -> None:
    d = classify(obs)
    assert (d.layer, d.cause, d.cdn) == (layer, cause, cdn)
    assert d.ok is (layer is Layer.NONE)
    assert d.explanation.en and d.explanation.id
    assert d.explanation.en != d.explanation.id
    assert "{" not in d.explanation.en + d.explanation.id


@pytest.mark.parametrize(
    ("error", "phase", "layer"),
    [
        (ErrorKind.NXDOMAIN, Phase.DNS, Layer.DNS),
        (ErrorKind.SERVFAIL, Phase.DNS, Layer.DNS),
        (ErrorKind.DNS_TIMEOUT, Phase.DNS, Layer.DNS),
        (ErrorKind.CONNECT_REFUSED, Phase.CONNECT, Layer.NETWORK),
        (ErrorKind.CONNECT_TIMEOUT, Phase.CONNECT, Layer.NETWORK),
        (ErrorKind.CERT_EXPIRED, Phase.TLS, Layer.TLS),
        (ErrorKind.CERT_HOSTNAME, Phase.TLS, Layer.TLS),
        (ErrorKind.CERT_UNTRUSTED, Phase.TLS, Layer.TLS),
        (ErrorKind.RESPONSE_TIMEOUT, Phase.RESPONSE, Layer.ORIGIN),
        (ErrorKind.TARGET_REFUSED, Phase.TARGET, Layer.CLIENT),
    ],
)
def test_transport_failures_name_their_layer(error: ErrorKind, phase: Phase, layer: Layer) -> None:
    d = classify(Observation(url=URL, phase=phase, error=error, error_detail="why"))
    assert d.layer is layer
    assert d.cause == error.value
    assert d.evidence["error"] == error.value
    assert d.evidence["detail"] == "why"


def test_every_transport_cause_has_its_own_explanation() -> None:
    for kind in ErrorKind:
        assert classify(Observation(url=URL, phase=Phase.DNS, error=kind)).cause in known_causes()


def test_cloudflare_evidence_names_the_failed_box_and_colo() -> None:
    d = classify(seen(522, CF_HEADERS, cloudflare_page(522, "host")))
    assert d.evidence["failed_box"] == "host"
    assert d.evidence["pop"] == "CGK"
    assert d.evidence["cdn_code"] == "522"
    assert "Cloudflare" in d.explanation.en and "Cloudflare" in d.explanation.id


def test_box_order_of_attributes_does_not_matter() -> None:
    body = cloudflare_page(502, "cloudflare").replace(
        'id="cf-cloudflare-status" class="cf-status cf-error-source"',
        'class="cf-error-source cf-status" id="cf-cloudflare-status"',
    )
    assert classify(seen(502, CF_HEADERS, body)).layer is Layer.EDGE
