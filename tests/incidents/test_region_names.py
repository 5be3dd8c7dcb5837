"""Region codes become names a reader knows, in the reader's language."""

from __future__ import annotations

import pytest

from pantau.regions import home_provinces, region_name


@pytest.mark.parametrize(
    ("code", "lang", "name"),
    [
        ("ID-JK", "en", "Jakarta Raya"),
        ("id-jb", "id", "Jawa Barat"),
        ("MY-10", "en", "Selangor, Malaysia"),
        ("US-CA", "id", "California, Amerika Serikat"),
        ("US-CA", "en", "California, United States"),
        ("SG", "id", "Singapura"),
        ("XX-99", "en", "XX-99"),
    ],
)
def test_region_names(code: str, lang: str, name: str) -> None:
    assert region_name(code, lang) == name


def test_the_form_offers_the_38_provinces_and_no_islands() -> None:
    provinces = dict(home_provinces("id"))
    assert len(provinces) == 38
    assert provinces["ID-JK"] == "Jakarta Raya"
    assert "ID-PD" in provinces  # Papua Barat Daya, the newest (2022)
    assert "ID-JW" not in provinces  # Jawa: an island, not a province
    names = [name for _, name in home_provinces("en")]
    assert names == sorted(names)
