"""The vocabulary of lab faults: what each lab server can be told to do.

These strings appear in scenario YAML, in the control API and on the command line,
so they are stable identifiers; docs/scenarios.md documents what each one produces.
"""

from __future__ import annotations

from enum import StrEnum


class OriginMode(StrEnum):
    """How a service's origin server behaves."""

    HEALTHY = "healthy"
    SLOW = "slow"
    """Answers correctly after `Lab.slow_seconds` of added latency."""
    HANG = "hang"
    """Accepts the connection and the request, never answers."""
    REFUSE = "refuse"
    """The port is closed: connections are refused."""
    BLACKHOLE = "blackhole"
    """Connection attempts time out (the listen queue is full and SYNs are dropped)."""
    UNREACHABLE = "unreachable"
    """No route to the origin (the edge reports it; direct clients see a refusal)."""
    DNS_FAIL = "dns_fail"
    """The edge cannot resolve the origin's name (Cloudflare 530 / 1016)."""
    RESET = "reset"
    """Reads the request, then resets the connection (RST)."""
    EMPTY = "empty"
    """Reads the request, then closes the connection without a byte of answer."""
    HTTP_500 = "http500"
    HTTP_502 = "http502"
    HTTP_504 = "http504"
    MAINTENANCE = "maintenance"
    """503 with Retry-After and a maintenance page."""
    OVERLOAD = "overload"
    """429 with Retry-After."""
    WRONG_CONTENT = "wrong_content"
    """200 with an error page instead of the application."""
    LOGIN_BROKEN = "login_broken"
    """Home page fine, but `/login` and `/api/login` answer 500."""
    TLS_SELF_SIGNED = "tls_self_signed"
    TLS_EXPIRED = "tls_expired"
    TLS_WRONG_HOST = "tls_wrong_host"
    TLS_HANDSHAKE = "tls_handshake"
    """The TLS handshake is aborted with a handshake_failure alert."""

    @property
    def is_tls(self) -> bool:
        return self.value.startswith("tls_")


class EdgeMode(StrEnum):
    """How a service's CDN edge behaves, independently of the origin behind it."""

    HEALTHY = "healthy"
    """Proxies to the origin and translates origin faults the way the CDN does."""
    ERROR = "error"
    """The CDN itself fails (Cloudflare 500 with its own box in error, Fastly
    'unknown domain', CloudFront/Akamai 5xx generated at the edge)."""
    CHALLENGE = "challenge"
    """A bot challenge page for this visitor (blocked, not an outage)."""
    BLOCK = "block"
    """A per-visitor block (Cloudflare 1020 / 403 elsewhere)."""
    BLOCK_IP = "block_ip"
    """Cloudflare 1006: this visitor's address is banned."""
    RATE_LIMIT = "rate_limit"
    """Cloudflare 1015 / 429: this visitor is rate limited."""


class DnsMode(StrEnum):
    """How the lab DNS server answers for a service's names."""

    OK = "ok"
    NXDOMAIN = "nxdomain"
    SERVFAIL = "servfail"
    TIMEOUT = "timeout"
    """No answer at all."""


class Personality(StrEnum):
    """Which CDN fronts a service; `none` means clients talk to the origin directly."""

    NONE = "none"
    CLOUDFLARE = "cloudflare"
    CLOUDFRONT = "cloudfront"
    FASTLY = "fastly"
    AKAMAI = "akamai"
    NGINX = "nginx"


class StatusKind(StrEnum):
    """Which status-page product a service's official page imitates."""

    STATUSPAGE = "statuspage"
    INCIDENTIO = "incidentio"


class PageMode(StrEnum):
    """How the official status page server itself answers (its own failures)."""

    OK = "ok"
    ERROR = "error"
    """503 for every document."""
    HANG = "hang"
    """Never answers."""
    INVALID = "invalid"
    """200 with a body that is not valid JSON or XML."""
