"""The SSRF guard: which resolved addresses a probe may connect to.

Applied to every address *after* resolution, and the probe then connects to exactly
the addresses that passed, so a name that resolves to a public address when checked
and to an internal one when connecting (DNS rebinding) never reaches the inside.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Cloud metadata endpoints, named explicitly because they are the classic SSRF prize
# (AWS/GCP/Azure 169.254.169.254, AWS IPv6 fd00:ec2::254, Alibaba 100.100.100.200).
_METADATA = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)
# Shared address space (RFC 6598, carrier-grade NAT) is not flagged private by ipaddress.
_CGNAT = ipaddress.ip_network("100.64.0.0/10")


class TargetRefused(Exception):
    """A probe target resolved to an address the guard does not allow."""

    def __init__(self, host: str, address: str, reason: str) -> None:
        super().__init__(f"{host} resolves to {address} ({reason}); not probed")
        self.host = host
        self.address = address
        self.reason = reason


def why_forbidden(address: str) -> str | None:
    """The reason `address` must not be probed, or None when it is a public address."""
    ip: IPAddress = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        mapped = ip.ipv4_mapped or ip.sixtofour
        if mapped is not None:
            # ::ffff:127.0.0.1 and 2002:7f00:1:: reach IPv4 hosts: judge those.
            return why_forbidden(str(mapped))
    if ip in _METADATA:
        return "cloud metadata"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if ip.is_unspecified:
        return "unspecified"
    if ip in _CGNAT:
        return "shared address space"
    if ip.is_private:
        return "private"
    if ip.is_reserved or not ip.is_global:
        return "reserved"
    return None


@dataclass(frozen=True, slots=True)
class Guard:
    """The operator's policy: `allow_private` is for the lab, tests and intranets."""

    allow_private: bool = False

    def check(self, host: str, addresses: tuple[str, ...]) -> tuple[str, ...]:
        """Return `addresses` if all may be probed, else raise `TargetRefused`.

        One forbidden address refuses the whole name: connecting to "the other ones"
        would let an attacker race the client's address choice.
        """
        if self.allow_private:
            return addresses
        for address in addresses:
            reason = why_forbidden(address)
            if reason is not None:
                raise TargetRefused(host, address, reason)
        return addresses
