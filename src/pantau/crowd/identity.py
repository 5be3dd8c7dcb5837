"""Reporter identity without storing who anyone is.

The client address is taken from `X-Forwarded-For` only when the TCP peer is a
trusted proxy, walking the header from the right and stopping at the first hop
that is not trusted (anything left of it could be forged by the client). The
address is reduced to its network (/24 for IPv4, /48 for IPv6) for rate limits
and distinct-network counts. What is stored are keyed hashes: a salt derived
from the secret and the UTC day, so identities cannot be linked across days nor
reversed by anyone without the secret. Raw addresses are never stored.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

Address = IPv4Address | IPv6Address
Network = IPv4Network | IPv6Network


# The TCP peer is one of a few proxies (or the clients themselves): parse each once.
_peer_address = lru_cache(maxsize=4096)(ip_address)


def client_address(
    peer: str | None, forwarded_for: str | None, trusted: Sequence[Network]
) -> Address | None:
    """The client's address, believing `X-Forwarded-For` only through trusted proxies."""
    try:
        current = _peer_address(peer) if peer else None
    except ValueError:
        return None
    if current is None or not forwarded_for:
        return current
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    while _trusted(current, trusted) and hops:
        try:
            current = ip_address(hops.pop())
        except ValueError:
            # A malformed hop: the last trustworthy thing we know is the proxy itself.
            return current
    return current


def trusted_peer(peer: str | None, trusted: Sequence[Network]) -> bool:
    """Whether the TCP peer is a trusted proxy, whose headers about the client are believed."""
    if not peer or not trusted:
        return False
    try:
        return _trusted(_peer_address(peer), trusted)
    except ValueError:
        return False


def _trusted(address: Address, trusted: Sequence[Network]) -> bool:
    return any(address.version == net.version and address in net for net in trusted)


def network_of(address: Address) -> Network:
    """The /24 (IPv4) or /48 (IPv6) around an address: what one ISP customer spans."""
    if isinstance(address, IPv4Address):
        return IPv4Network((int(address) & 0xFFFFFF00, 24))
    if address.ipv4_mapped is not None:
        return network_of(address.ipv4_mapped)
    return ip_network(f"{address}/48", strict=False)


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a report came from, spelt once: the keys for rate limits and hashing.

    `ipaddress` builds its text in Python; spelling the address and its network
    once per report rather than at each use took a tenth of the ingest's CPU.
    """

    address: str
    network: str


def origin(address: Address) -> Origin:
    text = str(address)
    if isinstance(address, IPv4Address):
        # The /24 of a dotted quad is its first three parts (what network_of spells).
        return Origin(text, f"{text.rpartition('.')[0]}.0/24")
    return Origin(text, str(network_of(address)))


class Tokens:
    """Random bytes from the OS's CSPRNG, fetched 4 KiB at a time.

    Every report needs a fresh id and a first-time reporter a fresh cookie; one
    `getrandom` system call per 256 of them instead of one each (bench/ingest.py).
    Used from the event loop's thread only.
    """

    def __init__(self) -> None:
        self._pool = b""

    def take(self, n: int) -> bytes:
        if len(self._pool) < n:
            self._pool = os.urandom(4096)
        chunk, self._pool = self._pool[:n], self._pool[n:]
        return chunk


tokens = Tokens()


@dataclass(frozen=True, slots=True)
class Reporter:
    """Who reported, as stored: hashed reporter and network, each valid for one day."""

    reporter: str
    network: str


class Hasher:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret
        self._salts: dict[date, bytes] = {}

    def _salt(self, day: date) -> bytes:
        salt = self._salts.get(day)
        if salt is None:
            # Keep only today's and yesterday's salts in memory.
            self._salts = {d: s for d, s in self._salts.items() if abs((day - d).days) <= 1}
            salt = hmac.new(self._secret, day.isoformat().encode(), hashlib.sha256).digest()
            self._salts[day] = salt
        return salt

    def _hash(self, day: date, *parts: str) -> str:
        message = "\x1f".join(parts).encode("utf-8", "surrogatepass")
        # Keyed BLAKE2b is a MAC in its own right and built in: 0.7 us against 2-4 us for
        # HMAC-SHA256 through OpenSSL, twice per report (bench/ingest.py). 16 bytes = 32 hex.
        return hashlib.blake2b(message, key=self._salt(day), digest_size=16).hexdigest()

    def reporter(self, day: date, client_id: str | None, where: Origin) -> Reporter:
        """One reporter = one client id within one network (or the address, if no id)."""
        network = where.network
        who = f"cid:{client_id}" if client_id else f"ip:{where.address}"
        return Reporter(self._hash(day, who, network), self._hash(day, "net", network))
