"""Certificate facts and certificate-failure kinds, shared by the HTTP and TLS probes."""

from __future__ import annotations

import ssl
from datetime import UTC, datetime
from typing import Any

from pantau.probes.observation import ErrorKind, TlsFacts

# OpenSSL verify codes that deserve their own cause (see `man openssl-verify`).
_X509_CERT_HAS_EXPIRED = 10
_X509_HOSTNAME_MISMATCH = 62


def tls_facts(ssl_object: ssl.SSLObject, now: datetime) -> TlsFacts:
    cert = ssl_object.getpeercert() or {}
    not_after = cert.get("notAfter")
    days = None
    if isinstance(not_after, str):
        expires = datetime.fromtimestamp(ssl.cert_time_to_seconds(not_after), UTC)
        days = (expires - now).total_seconds() / 86400

    def name(key: str) -> str | None:
        rdns: Any = cert.get(key, ())
        for rdn in rdns:
            for attr, value in rdn:
                if attr in ("commonName", "organizationName"):
                    return str(value)
        return None

    return TlsFacts(
        days_to_expiry=days,
        subject=name("subject"),
        issuer=name("issuer"),
        version=ssl_object.version(),
    )


def cert_error_kind(error: BaseException) -> ErrorKind:
    code = getattr(error, "verify_code", None)
    if code == _X509_CERT_HAS_EXPIRED:
        return ErrorKind.CERT_EXPIRED
    if code == _X509_HOSTNAME_MISMATCH or "hostname" in str(error).lower():
        return ErrorKind.CERT_HOSTNAME
    return ErrorKind.CERT_UNTRUSTED
