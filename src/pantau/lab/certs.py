"""Certificates for the lab, generated at start with trustme.

One lab CA signs the good certificates; clients that should trust the lab load
`ca_file`. The faulty certificates are the ones real outages show: self-signed (by
a CA nobody trusts), expired, and issued for another host name.
"""

from __future__ import annotations

import ssl
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import trustme

from pantau.lab.modes import OriginMode

LAB_DOMAIN = "pantau.test"


class LabCertificates:
    """Holds the lab CA and builds server/client SSL contexts from it."""

    def __init__(self) -> None:
        self.ca = trustme.CA(organization_name="pantau outage lab")
        self._rogue_ca = trustme.CA(organization_name="nobody trusts this")
        self._dir = tempfile.TemporaryDirectory(prefix="pantau-lab-")
        self.ca_file = Path(self._dir.name) / "lab-ca.pem"
        self.ca.cert_pem.write_to_path(str(self.ca_file))

    def close(self) -> None:
        self._dir.cleanup()

    def server_context(self, *hosts: str) -> ssl.SSLContext:
        """A context presenting a valid certificate for `hosts`."""
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert(*hosts).configure_cert(ctx)
        return ctx

    def faulty_context(self, mode: OriginMode, host: str) -> ssl.SSLContext:
        """A context presenting the broken certificate that `mode` names."""
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        if mode is OriginMode.TLS_SELF_SIGNED:
            self._rogue_ca.issue_cert(host).configure_cert(ctx)
        elif mode is OriginMode.TLS_EXPIRED:
            now = datetime.now(UTC)
            cert = self.ca.issue_cert(
                host, not_before=now - timedelta(days=400), not_after=now - timedelta(days=2)
            )
            cert.configure_cert(ctx)
        elif mode is OriginMode.TLS_WRONG_HOST:
            self.ca.issue_cert(f"wrong-host.{LAB_DOMAIN}").configure_cert(ctx)
        else:
            raise ValueError(f"{mode} is not a certificate fault")
        return ctx

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts the lab CA (what the edge uses towards origins)."""
        return ssl.create_default_context(cafile=str(self.ca_file))
