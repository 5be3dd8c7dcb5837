"""The region a report comes from when the reporter did not say: ISO 3166-2 or nothing.

Two sources, in order. A reverse proxy or CDN in front of pantau may already know
where the visitor is and say so in headers (Cloudflare's visitor-location headers
`CF-IPCountry` and `cf-region-code` by default); those are believed only when the
TCP peer is a trusted proxy, as `X-Forwarded-For` is, since anyone else can send
them. Otherwise a MaxMind-format City database (GeoLite2 or GeoIP2) maps the
client's address to a country and its largest subdivision. A country alone is
still a region (`ID`); anything odd yields None, never an exception, because a
report without a region is worth more than no report.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import maxminddb

from pantau.crowd.identity import Network, Origin, Proxies
from pantau.regions import known_regions

if TYPE_CHECKING:
    from pantau.settings import Settings


# Networks whose answer is remembered; the oldest is forgotten first.
_KNOWN_NETWORKS = 65_536


def open_database(path: Path) -> maxminddb.Reader:
    """Open a MaxMind DB file memory-mapped (the C reader when installed).

    Raises `ValueError` naming the problem when the file cannot be read as a MaxMind
    database, or holds no subdivisions (a Country or ASN database would silently give
    no region).
    """
    try:
        reader = maxminddb.open_database(str(path))
    except (OSError, maxminddb.InvalidDatabaseError) as exc:
        raise ValueError(f"cannot read {path} as a MaxMind database: {exc}") from None
    kind = str(reader.metadata().database_type)
    if "City" not in kind:
        reader.close()
        raise ValueError(f"{path} is a {kind} database; a City database is needed for regions")
    return reader


def join(country: object, subdivision: object) -> str | None:
    """`CC-SUB` from the two ISO parts, `CC` when the subdivision is unknown, else None.

    The parts may be header values as the ASGI server hands them over (bytes)."""
    if isinstance(country, bytes):
        country = country.decode("latin-1")
    if isinstance(subdivision, bytes):
        subdivision = subdivision.decode("latin-1")
    if not isinstance(country, str):
        return None
    country = country.strip().upper()
    # Codes as a report typed must be (`validate.ReportIn`): ISO's, not a CDN's own (EU,
    # AP) nor the shape of one (ID-ZZ).
    known = known_regions()
    if country not in known:
        return None
    if isinstance(subdivision, str):
        subdivision = subdivision.strip().upper()
        # Some proxies send the whole ISO 3166-2 code rather than its second part.
        if subdivision.startswith(f"{country}-"):
            subdivision = subdivision[3:]
        if f"{country}-{subdivision}" in known:
            return f"{country}-{subdivision}"
    return country


# Proxies send a few hundred distinct pairs at most: check each once.
_join_remembered = lru_cache(maxsize=4096)(join)


def from_record(record: Any) -> str | None:
    """The region of one City database record (`country`, `subdivisions` most general first)."""
    if not isinstance(record, dict):
        return None
    country = record.get("country")
    if not isinstance(country, dict):
        return None
    subdivision: object = None
    subdivisions = record.get("subdivisions")
    if isinstance(subdivisions, list) and subdivisions and isinstance(subdivisions[0], dict):
        subdivision = subdivisions[0].get("iso_code")
    return join(country.get("iso_code"), subdivision)


class Regions:
    """Where a client is, from trusted proxy headers or a MaxMind database.

    The reader is memory-mapped and shared by every lookup; `close` unmaps it.
    """

    def __init__(
        self,
        trusted_proxies: Sequence[Network],
        *,
        country_header: str | None = None,
        region_header: str | None = None,
        database: maxminddb.Reader | None = None,
    ) -> None:
        self._proxies = Proxies(trusted_proxies)
        # Header names are matched as the ASGI server hands them over: lower-case bytes.
        self._country_header = country_header.lower().encode() if country_header else None
        self._region_header = region_header.lower().encode() if region_header else None
        self._database = database
        # Region (or None) of each /24 or /48 that the database answers for as a whole.
        # An OrderedDict forgets its oldest in O(1); a dict's `next(iter())` walks past
        # the slots of those already forgotten until it next resizes: 47 us a new /24
        # once full (outage scale, every report from another network), now 15, most of it
        # the record's decoding.
        self._known: OrderedDict[str, str | None] = OrderedDict()

    @classmethod
    def from_settings(cls, settings: Settings) -> Regions:
        path = settings.geoip_database
        return cls(
            settings.trusted_proxies,
            country_header=settings.geo_country_header,
            region_header=settings.geo_region_header,
            database=open_database(path) if path is not None else None,
        )

    def close(self) -> None:
        if self._database is not None:
            self._database.close()
            self._database = None

    def region(
        self, peer: str | None, where: Origin, headers: Mapping[bytes, bytes] | None
    ) -> str | None:
        """The region (or country) of the client at `where`, or None when nothing tells.

        `peer` is the TCP peer: only when it is a trusted proxy are `headers` believed.
        `headers` are the request's as ASGI has them: `dict(scope["headers"])`.
        """
        if headers and self._country_header and peer and self._proxies.trusts(peer):
            found = _join_remembered(
                headers.get(self._country_header),
                headers.get(self._region_header) if self._region_header else None,
            )
            if found is not None:
                return found
        if self._database is None:
            return None
        if where.network in self._known:
            return self._known[where.network]
        address = where.address  # IPv4-mapped ones spelt as IPv4 (`identity.origin`)
        try:
            record, prefix = self._database.get_with_prefix_len(address)
        except ValueError:
            # Not an address, or an IPv6 address asked of an IPv4-only database.
            return None
        found = from_record(record)
        if prefix <= (48 if ":" in address else 24):
            # The database says the same of the client's whole /24 (/48): the network
            # that rate limits already use, and what many reporters behind one carrier
            # share. Decoding a City record costs ~10 us; a dict look-up a tenth of one.
            if len(self._known) >= _KNOWN_NETWORKS:
                self._known.popitem(last=False)
            self._known[where.network] = found
        return found
