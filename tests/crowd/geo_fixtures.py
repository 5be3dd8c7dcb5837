"""Small MaxMind-format City databases written for the tests and the lookup benchmark.

Records have the shape of GeoIP2/GeoLite2 City records (names in eight languages,
continent, location, postal code), so decoding one costs what a real one does.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mmdb_writer import MMDBWriter
from netaddr import IPSet

LANGUAGES = ["de", "en", "es", "fr", "ja", "pt-BR", "ru", "zh-CN"]


def _names(name: str) -> dict[str, str]:
    return {language: name for language in LANGUAGES}


def city_record(country: str | None, subdivision: str | None = None) -> dict[str, Any]:
    record: dict[str, Any] = {
        "continent": {"code": "AS", "geoname_id": 6255147, "names": _names("Asia")},
        "location": {"accuracy_radius": 50, "latitude": -6.2, "longitude": 106.8,
                     "time_zone": "Asia/Jakarta"},
        "registered_country": {"geoname_id": 1643084, "iso_code": "ID",
                               "names": _names("Indonesia")},
    }
    if country is not None:
        record["country"] = {"geoname_id": 1643084, "iso_code": country,
                             "names": _names(country)}
    if subdivision is not None:
        record["city"] = {"geoname_id": 1642911, "names": _names("Jakarta")}
        record["postal"] = {"code": "10110"}
        record["subdivisions"] = [
            {"geoname_id": 1642907, "iso_code": subdivision, "names": _names(subdivision)},
            {"geoname_id": 1, "iso_code": "ZZZ", "names": _names("smaller")},
        ]
    return record


def write_database(
    path: Path,
    entries: Iterable[tuple[str, dict[str, Any]]],
    *,
    ip_version: int = 6,
    database_type: str = "GeoLite2-City",
) -> Path:
    """An .mmdb file mapping each network (CIDR text) to its record."""
    writer = MMDBWriter(
        ip_version=ip_version,
        database_type=database_type,
        languages=LANGUAGES,
        description="pantau test database",
        ipv4_compatible=ip_version == 6,
    )
    for network, record in entries:
        writer.insert_network(IPSet([network]), record)
    writer.to_db_file(str(path))
    return path
