"""Reporter identity without storing who anyone is.

The client address is taken from `X-Forwarded-For` only when the TCP peer is a
trusted proxy, walking the header from the right and stopping at the first hop
that is not trusted (anything left of it could be forged by the client). The
address is reduced to its network (/24 for IPv4, /48 for IPv6) for rate limits
and distinct-network counts. What is stored are keyed hashes: a salt derived
from the secret and the day (in PANTAU_CROWD_TIMEZONE, so that it changes at night,
when fewest people report, not at 07:00 in Jakarta), so identities cannot be linked
across days nor reversed by anyone without the secret. Raw addresses are never stored.

The one-voice gate keys a reporter with the secret alone: its entries live for its 30
minutes, in memory or in Redis, and with the day's hashes one person reporting at
23:55 and again at 00:05 was two voices, and every network had its voices again.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import os
import socket
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network
from typing import NamedTuple

Address = IPv4Address | IPv6Address
Network = IPv4Network | IPv6Network


class Proxies:
    """Finds the client's origin behind the trusted proxies.

    IPv4 addresses are read with the C library's inet_pton (strict dotted quads, so the
    text is already canonical) and compared as integers: an `ipaddress` object cost 2.5 us
    to parse and 1 us to test against a network, for every hop of every report
    (bench/ingest.py). IPv6 goes through `ipaddress`.
    """

    def __init__(self, trusted: Sequence[Network]) -> None:
        self._trusted = tuple(trusted)
        self._v4 = tuple(
            (int(net.network_address), int(net.netmask)) for net in trusted if net.version == 4
        )
        # The TCP peer is one of a few proxies (or the clients themselves): read each once.
        self._peer = lru_cache(maxsize=4096)(self._read)

    def trusts(self, peer: str) -> bool:
        """Whether the TCP peer `peer` is a trusted proxy: the rule its headers (the
        client's address, a CDN's country) are believed by."""
        found = self._peer(peer)
        return found is not None and found[1]

    def origin(self, peer: str | None, forwarded_for: str | None) -> Origin | None:
        """Where a report came from, believing `X-Forwarded-For` only through trusted proxies."""
        current = self._peer(peer) if peer else None
        if current is None or not forwarded_for:
            return current[0] if current else None
        if "," not in forwarded_for:
            # One hop (the common case): no list to build, and whether the hop is itself a
            # proxy does not matter, since nothing is left of it to believe (with the
            # integer test below, 1.1 us a report against 2.1 us).
            if not current[1] or not (hop := forwarded_for.strip()):
                return current[0]
            found = self._read(hop, trust=False)
            return current[0] if found is None else found[0]
        hops = forwarded_for.split(",")
        while current[1] and hops:
            hop = hops.pop().strip()
            if not hop:
                continue
            found = self._read(hop)
            if found is None:
                # A malformed hop: the last trustworthy thing we know is the proxy itself.
                return current[0]
            current = found
        return current[0]

    def _read(self, text: str, trust: bool = True) -> tuple[Origin, bool] | None:
        """The origin of an address and whether it is a trusted proxy (False unless `trust`
        asks); None if no address."""
        try:
            packed = socket.inet_pton(socket.AF_INET, text)
        except OSError:
            pass
        else:
            # The /24 of a dotted quad is its first three parts (what network_of spells).
            where = Origin(text, f"{text.rpartition('.')[0]}.0/24")
            if trust:
                number = int.from_bytes(packed)
                for net, mask in self._v4:
                    if number & mask == net:
                        return where, True
            return where, False
        try:
            address = ip_address(text)
        except ValueError:
            # Some load balancers write the client's port too: 203.0.113.9:51234,
            # [2001:db8::1]:443. Read as malformed, every client became the proxy and
            # shared its rate limit.
            host = _without_port(text)
            return None if host is None else self._read(host, trust)
        plain = unmapped(address)
        if plain is not address:
            # Trusted as IPv4 and spelt so (Python before 3.13 spells it ::ffff:cb00:714d,
            # which no rate limit or GeoIP database would match).
            return self._read(str(plain), trust)
        trusted = trust and any(
            address.version == net.version and address in net for net in self._trusted
        )
        return origin(address), trusted


def _without_port(text: str) -> str | None:
    """The address of `address:port` or `[address]:port` (or `[address]`), else None."""
    if text.startswith("["):
        host, bracket, rest = text[1:].partition("]")
        return host if bracket and (not rest or (rest[0] == ":" and rest[1:].isdigit())) else None
    host, colon, port = text.partition(":")
    return host if colon and port.isdigit() and "." in host else None


def unmapped(address: Address) -> Address:
    """The address itself: an IPv4-mapped one (::ffff:a.b.c.d, as a dual-stack listener,
    PANTAU_HOST=::, sees IPv4 clients) as its IPv4 address."""
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def network_of(address: Address) -> Network:
    """The /24 (IPv4) or /48 (IPv6) around an address: what one ISP customer spans."""
    address = unmapped(address)
    if isinstance(address, IPv4Address):
        return IPv4Network((int(address) & 0xFFFFFF00, 24))
    return ip_network(f"{address}/48", strict=False)


class Origin(NamedTuple):
    """Where a report came from, spelt once: the keys for rate limits and hashing.

    `ipaddress` builds its text in Python; spelling the address and its network
    once per report rather than at each use took a tenth of the ingest's CPU. A named
    tuple is built in 0.28 us, a frozen dataclass in 0.42 us.
    """

    address: str
    network: str


def origin(address: Address) -> Origin:
    address = unmapped(address)  # one client, one spelling (see `Proxies._read`)
    return Origin(str(address), str(network_of(address)))


class Tokens:
    """Random bytes from the OS's CSPRNG, fetched 4 KiB at a time.

    Every report needs a fresh id and a first-time reporter a fresh cookie; one
    `getrandom` system call per 256 of them instead of one each (bench/ingest.py).
    Used from the event loop's thread only. The pool is read from an offset: cutting
    off what was taken copied the rest of it, up to 4 KiB, at every take.
    """

    def __init__(self) -> None:
        self._pool = b""
        self._at = 0

    def take(self, n: int) -> bytes:
        at = self._at
        if at + n > len(self._pool):
            self._pool, at = os.urandom(4096), 0
        self._at = at + n
        return self._pool[at : at + n]


tokens = Tokens()


class Reporter(NamedTuple):
    """Who reported: as stored, hashed reporter and network, each valid for one day; for
    the gate, the same keyed with the secret alone (never stored). A named tuple, as
    `Origin`."""

    reporter: str
    network: str
    gate_reporter: str
    gate_network: str


class Hasher:
    def __init__(self, secret: bytes, zone: tzinfo = UTC) -> None:
        self._secret = secret
        self._zone = zone
        self._keyed: dict[date, hashlib.blake2b] = {}
        gate = hmac.new(secret, b"pantau gate keys", hashlib.sha256).digest()
        self._gate = hashlib.blake2b(key=gate, digest_size=16)
        self._day = date.min
        self._day_spans = (math.inf, -math.inf)

    def day_of(self, now: datetime, seconds: float) -> date:
        """The day of `now` (`seconds`: its Unix time) in the hasher's zone; worked out
        once a day, as a zone's conversion costs a microsecond or two a report."""
        starts, ends = self._day_spans
        if not starts <= seconds < ends:
            day = self._day = now.astimezone(self._zone).date()
            self._day_spans = (
                datetime.combine(day, time(), self._zone).timestamp(),
                datetime.combine(day + timedelta(days=1), time(), self._zone).timestamp(),
            )
        return self._day

    def _start(self, day: date) -> hashlib.blake2b:
        """A keyed BLAKE2b that has taken in the day's salt, to be copied for each hash.

        Keyed BLAKE2b is a MAC in its own right and built in: 0.7 us against 2-4 us for
        HMAC-SHA256 through OpenSSL, twice per report; copying a state that has already
        taken the key in saves another third (bench/ingest.py). 16 bytes = 32 hex.
        """
        keyed = self._keyed.get(day)
        if keyed is None:
            # Keep only today's and yesterday's salts in memory.
            self._keyed = {d: k for d, k in self._keyed.items() if abs((day - d).days) <= 1}
            salt = hmac.new(self._secret, day.isoformat().encode(), hashlib.sha256).digest()
            keyed = self._keyed[day] = hashlib.blake2b(key=salt, digest_size=16)
        return keyed

    def as_heard(
        self, who: Reporter, heard: float, client_id: str | None, where: Origin
    ) -> Reporter:
        """`who` (hashed for the day `day_of` last told) as stored with the voice it
        repeats, counted at `heard` (Unix seconds): with that day's salt, so that a repeat
        at 00:05 of a voice from 23:55 is the same reporter to the rollup, and adds its
        details (the gate, keyed without the day, already knows it is a repeat)."""
        if heard >= self._day_spans[0]:
            return who
        day = datetime.fromtimestamp(heard, self._zone).date()
        return self.reporter(day, client_id, where)

    def day_before(
        self, seconds: float, within: float, client_id: str | None, where: Origin
    ) -> Reporter | None:
        """The reporter as hashed the day before, if `seconds` is less than `within` into
        the day `day_of` last told (else None): what the reports table holds of someone
        heard before midnight, for a restart's recall to know them after it."""
        starts = self._day_spans[0]
        if not starts <= seconds < starts + within:
            return None
        return self.reporter(self._day - timedelta(days=1), client_id, where)

    def reporter(self, day: date, client_id: str | None, where: Origin) -> Reporter:
        """One reporter = one client id within one network (or the address, if no id)."""
        keyed = self._start(day)
        network = where.network
        who = (f"cid:{client_id}\x1f{network}" if client_id else
               f"ip:{where.address}\x1f{network}").encode("utf-8", "surrogatepass")
        net = f"net\x1f{network}".encode()
        hashes = []
        for state in (keyed, self._gate):
            for text in (who, net):
                h = state.copy()
                h.update(text)
                hashes.append(h.hexdigest())
        return Reporter(*hashes)
