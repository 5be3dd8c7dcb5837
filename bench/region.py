"""Cost of deriving a report's region: `python bench/region.py`.

Builds a City-shaped MaxMind database (records as large as GeoLite2 City's) and times,
per lookup, next to parsing and spelling an address (which every report already pays)
in the same run:

- a trusted proxy's headers;
- the database, for a /24 seen before (its answer remembered);
- the database, for a /24 never seen before (a City record decoded);
- an address the database does not know.
"""

from __future__ import annotations

import sys
import tempfile
import timeit
from collections.abc import Callable
from ipaddress import IPv4Address, ip_address, ip_network
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pantau.crowd.identity import origin
from pantau.crowd.region import Regions, open_database
from tests.crowd.geo_fixtures import city_record, write_database

PROXY = [ip_network("127.0.0.1/32")]
ROUNDS = 50_000
FIRST_SEEN_ROUNDS = 10_000


def per_call(call: Callable[[], object], rounds: int = ROUNDS) -> float:
    """Microseconds per call, the best of five rounds (the least disturbed by neighbours)."""
    return min(timeit.repeat(call, number=rounds, repeat=5)) / rounds * 1e6


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        # 10.0.0.0/8 in /16s, each its own record, as a City database splits a country.
        entries = [(f"10.{i}.0.0/16", city_record("ID", f"{i:02X}")) for i in range(256)]
        path = write_database(Path(folder) / "city.mmdb", entries)
        regions = Regions(PROXY, country_header="cf-ipcountry",
                          region_header="cf-region-code", database=open_database(path))
        headers = {b"cf-ipcountry": b"ID", b"cf-region-code": b"JK"}
        known = origin(ip_address("10.1.2.3"))
        unknown = origin(ip_address("192.0.2.1"))
        # 5 x 10,000 calls, each for another of the 65,536 /24s of 10.0.0.0/8.
        fresh = iter([origin(IPv4Address(int(IPv4Address("10.0.0.0")) + (i << 8)))
                      for i in range(1 << 16)])

        def first_seen() -> object:
            # Each call a /24 never asked before: nothing remembered helps.
            return regions.region(None, next(fresh), None)

        rows: list[tuple[str, Callable[[], object], int]] = [
            ("origin(ip_address) baseline", lambda: origin(ip_address("10.1.2.3")), ROUNDS),
            ("proxy headers", lambda: regions.region("127.0.0.1", known, headers), ROUNDS),
            ("database, /24 seen before", lambda: regions.region(None, known, None), ROUNDS),
            ("database, /24 first seen", first_seen, FIRST_SEEN_ROUNDS),
            ("database, address unknown", lambda: regions.region(None, unknown, None), ROUNDS),
        ]
        for name, call, rounds in rows:
            print(f"{name:28} {per_call(call, rounds):6.2f} us")
        regions.close()


if __name__ == "__main__":
    main()
