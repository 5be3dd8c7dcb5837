"""A report's region from trusted proxy headers or a real MaxMind-format database file."""

from __future__ import annotations

import re
from collections.abc import Iterator
from ipaddress import ip_address, ip_network
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pantau.crowd.identity import Origin, origin
from pantau.crowd.region import Regions, join, open_database
from pantau.crowd.validate import decode_report
from pantau.settings import SettingsError, load_settings
from tests.crowd.geo_fixtures import city_record, write_database

PROXY = [ip_network("127.0.0.1/32"), ip_network("10.0.0.0/8")]
CF = {b"cf-ipcountry": b"US", b"cf-region-code": b"TX"}
# What a report's `region` field accepts.
REGION = re.compile(r"[A-Z]{2}(-[A-Z0-9]{1,3})?")


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return write_database(tmp_path / "city.mmdb", [
        ("203.0.113.0/24", city_record("ID", "JK")),
        ("198.51.100.0/25", city_record("ID", "JB")),
        ("198.51.100.128/25", city_record("ID", "JT")),
        ("2001:db8::/32", city_record("ID", "JI")),
        ("192.0.2.0/24", city_record("SG")),        # a country-only entry
        ("100.64.0.0/16", city_record("XX", "AB")),  # "unknown" names no place
        ("100.65.0.0/16", city_record(None)),        # registered country only
    ])


@pytest.fixture
def regions(database: Path) -> Iterator[Regions]:
    found = Regions(PROXY, country_header="CF-IPCountry", region_header="cf-region-code",
                    database=open_database(database))
    yield found
    found.close()


def where(regions: Regions, address: str, peer: str | None = "198.18.0.1",
          headers: dict[bytes, bytes] | None = None) -> str | None:
    return regions.region(peer, origin(ip_address(address)), headers)


def test_the_database_gives_country_and_largest_subdivision(regions: Regions) -> None:
    assert where(regions, "203.0.113.77") == "ID-JK"
    assert where(regions, "2001:db8:1234::5") == "ID-JI"
    # A dual-stack socket spells IPv4 clients as IPv4-mapped IPv6.
    assert where(regions, "::ffff:203.0.113.77") == "ID-JK"
    assert where(regions, "192.0.2.9") == "SG"


def test_a_dual_stack_client_is_placed_as_its_ipv4_address(regions: Regions) -> None:
    # Asked first (nothing remembered of its /24), and from a proxy seen the same way.
    assert where(regions, "::ffff:198.51.100.7") == "ID-JB"
    assert regions.region("::ffff:127.0.0.1", origin(ip_address("198.51.100.200")), CF) == "US-TX"


def test_addresses_the_database_cannot_place_have_no_region(regions: Regions) -> None:
    assert where(regions, "8.8.8.8") is None
    assert where(regions, "2a00:1450::1") is None
    assert where(regions, "100.64.3.4") is None
    assert where(regions, "100.65.3.4") is None
    assert regions.region(None, Origin("not an address", "nowhere"), None) is None


def test_networks_split_below_a_slash_24_are_answered_per_address(regions: Regions) -> None:
    # The remembered answers are per /24; a /24 cut in two must not be answered from
    # whichever half was asked first.
    for _ in range(2):
        assert where(regions, "198.51.100.5") == "ID-JB"
        assert where(regions, "198.51.100.200") == "ID-JT"
    for _ in range(2):
        assert where(regions, "203.0.113.1") == "ID-JK"
        assert where(regions, "203.0.113.254") == "ID-JK"
        assert where(regions, "203.0.112.1") is None


def test_the_remembered_networks_are_bounded_and_the_oldest_forgotten_first(
    regions: Regions, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("pantau.crowd.region._KNOWN_NETWORKS", 2)
    assert where(regions, "203.0.113.1") == "ID-JK"
    assert where(regions, "192.0.2.1") == "SG"
    assert where(regions, "2001:db8::1") == "ID-JI"
    assert list(regions._known) == ["192.0.2.0/24", "2001:db8::/48"]
    # A forgotten network is read from the database again, with the same answer.
    assert where(regions, "203.0.113.2") == "ID-JK"
    assert list(regions._known) == ["2001:db8::/48", "203.0.113.0/24"]


def test_an_ipv4_only_database_asked_an_ipv6_address(tmp_path: Path) -> None:
    path = write_database(tmp_path / "v4.mmdb", [("203.0.113.0/24", city_record("ID", "JK"))],
                          ip_version=4)
    regions = Regions(PROXY, database=open_database(path))
    try:
        assert where(regions, "203.0.113.1") == "ID-JK"
        assert where(regions, "2001:db8::1") is None
    finally:
        regions.close()


def test_proxy_headers_are_believed_only_from_trusted_peers(regions: Regions) -> None:
    assert where(regions, "203.0.113.77", peer="127.0.0.1", headers=CF) == "US-TX"
    assert where(regions, "203.0.113.77", peer="10.2.3.4", headers=CF) == "US-TX"
    # The client itself sent them: ignored, the database answers.
    assert where(regions, "203.0.113.77", peer="203.0.113.77", headers=CF) == "ID-JK"
    assert where(regions, "8.8.8.8", peer="8.8.8.8", headers=CF) is None
    assert where(regions, "8.8.8.8", peer=None, headers=CF) is None
    assert where(regions, "8.8.8.8", peer="not an address", headers=CF) is None


def test_odd_proxy_headers_fall_back_to_the_database(regions: Regions) -> None:
    def via_proxy(headers: dict[bytes, bytes]) -> str | None:
        return where(regions, "203.0.113.77", peer="127.0.0.1", headers=headers)

    assert via_proxy({b"cf-ipcountry": b"id"}) == "ID"
    assert via_proxy({b"cf-ipcountry": b"ID", b"cf-region-code": b"ID-JK"}) == "ID-JK"
    assert via_proxy({b"cf-ipcountry": b"ID", b"cf-region-code": b"Jakarta"}) == "ID"
    # Cloudflare's "unknown" and Tor markers, and nonsense.
    assert via_proxy({b"cf-ipcountry": b"XX"}) == "ID-JK"
    assert via_proxy({b"cf-ipcountry": b"T1"}) == "ID-JK"
    assert via_proxy({b"cf-ipcountry": b"Indonesia", b"cf-region-code": b"JK"}) == "ID-JK"
    assert via_proxy({}) == "ID-JK"


def test_without_a_database_only_headers_tell() -> None:
    regions = Regions(PROXY, country_header="cf-ipcountry", region_header=None)
    assert where(regions, "203.0.113.7", "127.0.0.1", CF) == "US"
    assert where(regions, "203.0.113.7", "127.0.0.1") is None
    assert where(Regions(PROXY), "203.0.113.7", "127.0.0.1", CF) is None


ODD = st.one_of(st.none(), st.text(max_size=8), st.binary(max_size=8), st.integers())


@given(ODD, ODD)
def test_joining_never_raises_and_yields_what_a_report_accepts(
    country: object, subdivision: object
) -> None:
    found = join(country, subdivision)
    assert found is None or REGION.fullmatch(found)
    assert found is None or decode_report(
        b'{"category": "app", "region": "%b"}' % found.encode()).region == found


@pytest.mark.parametrize(("country", "subdivision", "region"), [
    ("ID", "JK", "ID-JK"), ("id", "ID-JK", "ID-JK"), (b"GB", b"LND", "GB-LND"),
    # A CDN's own codes and codes of ISO's shape that name no place, as a report typed.
    ("ID", "ZZ", "ID"), ("ID", "99", "ID"), ("UK", "LND", None), ("EU", None, None),
    ("AP", None, None), ("XX", None, None),
])
def test_a_region_from_a_header_is_one_iso_3166_names(
    country: object, subdivision: object, region: str | None
) -> None:
    assert join(country, subdivision) == region


def test_settings_name_the_database_and_headers(
    database: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PANTAU_GEOIP_DATABASE", str(database))
    monkeypatch.setenv("PANTAU_TRUSTED_PROXIES", "127.0.0.1")
    monkeypatch.setenv("PANTAU_GEO_REGION_HEADER", "")
    settings = load_settings()
    assert settings.geo_country_header == "cf-ipcountry" and settings.geo_region_header is None
    regions = Regions.from_settings(settings)
    try:
        assert where(regions, "192.0.2.1", "127.0.0.1", CF) == "US"
        assert where(regions, "192.0.2.1", "198.18.0.1", CF) == "SG"
    finally:
        regions.close()
    bad = tmp_path / "not.mmdb"
    bad.write_bytes(b"not a database")
    with pytest.raises(SettingsError, match=r"PANTAU_GEOIP_DATABASE: .*MaxMind"):
        load_settings(geoip_database=str(bad))
    with pytest.raises(SettingsError, match="PANTAU_GEOIP_DATABASE"):
        load_settings(geoip_database=str(tmp_path / "missing.mmdb"))
    # A Country database has no subdivisions: every report would silently get none.
    country = write_database(tmp_path / "country.mmdb", [("192.0.2.0/24", city_record("ID", "JK"))],
                             database_type="GeoLite2-Country")
    with pytest.raises(SettingsError, match="GeoLite2-Country database; a City database"):
        load_settings(geoip_database=str(country))
