"""What a probe saw, and what the classifier concluded from it.

The network code fills an `Observation`; the pure classifier turns it into a
`Diagnosis`. Keeping the two apart is what lets the classifier be tested on plain
fixtures and replayed without sockets.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from pantau.signals import Layer, Text


class Phase(StrEnum):
    """How far a check got before it stopped (or `DONE` when a response arrived)."""

    TARGET = "target"
    DNS = "dns"
    CONNECT = "connect"
    TLS = "tls"
    RESPONSE = "response"
    DONE = "done"


class ErrorKind(StrEnum):
    """Transport-level failures, named independently of the client library."""

    TARGET_REFUSED = "target_refused"
    NXDOMAIN = "nxdomain"
    SERVFAIL = "servfail"
    DNS_TIMEOUT = "dns_timeout"
    NO_ADDRESS = "no_address"
    CONNECT_REFUSED = "connect_refused"
    CONNECT_TIMEOUT = "connect_timeout"
    UNREACHABLE = "unreachable"
    CERT_EXPIRED = "certificate_expired"
    CERT_HOSTNAME = "hostname_mismatch"
    CERT_UNTRUSTED = "certificate_untrusted"
    TLS_HANDSHAKE = "tls_handshake_failed"
    RESPONSE_TIMEOUT = "response_timeout"
    DISCONNECTED = "connection_dropped"
    TOO_MANY_REDIRECTS = "too_many_redirects"


@dataclass(frozen=True, slots=True)
class Timings:
    """Phase durations in milliseconds; None for a phase that did not happen."""

    dns_ms: float | None = None
    connect_ms: float | None = None
    tls_ms: float | None = None
    ttfb_ms: float | None = None
    total_ms: float | None = None

    def as_dict(self) -> dict[str, float | None]:
        return {
            "dns_ms": self.dns_ms,
            "connect_ms": self.connect_ms,
            "tls_ms": self.tls_ms,
            "ttfb_ms": self.ttfb_ms,
            "total_ms": self.total_ms,
        }


@dataclass(frozen=True, slots=True)
class TlsFacts:
    """The certificate the server presented (only known when it verified)."""

    days_to_expiry: float | None = None
    subject: str | None = None
    issuer: str | None = None
    version: str | None = None


@dataclass(frozen=True, slots=True)
class Observation:
    """Everything one check saw; headers use lower-case names."""

    url: str
    phase: Phase
    error: ErrorKind | None = None
    error_detail: str = ""
    status: int | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    body: str = ""
    """A prefix of the body, decoded leniently (error pages fit in a few KiB)."""
    tls: TlsFacts | None = None
    addresses: tuple[str, ...] = ()
    """The addresses the name resolved to (all passed the SSRF guard)."""
    peer: str | None = None
    expected_status: tuple[int, ...] = ()
    """Statuses that count as healthy; empty means any 2xx/3xx."""
    failed_assertions: tuple[str, ...] = ()
    """Content checks that failed (keyword, regex, JSON path), as short descriptions."""
    min_cert_days: float | None = None
    """Warn (as a TLS fault) when the certificate expires sooner than this."""
    slow_ms: float | None = None
    """A correct answer slower than this (total) counts as the service struggling."""
    timings: Timings = field(default_factory=Timings)


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """The classifier's verdict on one observation."""

    layer: Layer
    cause: str
    cdn: str | None
    evidence: Mapping[str, object]
    explanation: Text

    @property
    def ok(self) -> bool:
        return self.layer is Layer.NONE
