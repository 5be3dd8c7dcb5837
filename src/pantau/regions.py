"""Region names for readers: ISO 3166-2 codes as people know them, in their language.

Reports carry codes (`ID-JK`); pages show names ("Jakarta Raya"; "Selangor, Malaysia"
for a region abroad, with the country named in the reader's language). Names and
their translations come from the ISO tables shipped with pycountry.
"""

from __future__ import annotations

import gettext
from functools import cache
from typing import Any

import pycountry

HOME_COUNTRY = "ID"
"""Regions of this country are named alone; others with their country."""
# Indonesia's ISO table also lists its islands ("geographical units"), which are not
# provinces and would only make the form's list longer.
_PROVINCE_TYPES = frozenset({"Province", "Capital district", "Special region"})


def _get(database: Any, **key: str) -> Any:
    """pycountry's lookups are untyped: one place to say what they give."""
    return database.get(**key)


@cache
def _translation(domain: str, lang: str) -> gettext.NullTranslations:
    return gettext.translation(domain, pycountry.LOCALES_DIR, languages=[lang], fallback=True)


def _country_name(alpha_2: str, lang: str) -> str | None:
    country = _get(pycountry.countries, alpha_2=alpha_2)
    if country is None:
        return None
    name = getattr(country, "common_name", None) or country.name
    return _translation("iso3166-1", lang).gettext(name)


@cache
def known_regions() -> frozenset[str]:
    """Every ISO 3166-1 country and 3166-2 subdivision code (5,295), for telling a region a
    report names from one made up ("ID-ZZ", "UK-LND": the United Kingdom's code is GB)."""
    countries = {country.alpha_2 for country in pycountry.countries}
    return frozenset(countries | {subdivision.code for subdivision in pycountry.subdivisions})


@cache
def region_name(code: str, lang: str) -> str:
    """The name of region `code` for a reader of `lang`; the code itself if unknown."""
    code = code.upper()
    subdivision = _get(pycountry.subdivisions, code=code)
    if subdivision is None:
        return _country_name(code, lang) or code
    name = _translation("iso3166-2", lang).gettext(subdivision.name)
    if subdivision.country_code == HOME_COUNTRY:
        return str(name)
    country = _country_name(subdivision.country_code, lang)
    return f"{name}, {country}" if country else str(name)


@cache
def home_provinces(lang: str) -> tuple[tuple[str, str], ...]:
    """(code, name) of every province of the home country, by name: the form's choices."""
    found = _get(pycountry.subdivisions, country_code=HOME_COUNTRY) or []
    provinces = [(s.code, region_name(s.code, lang)) for s in found if s.type in _PROVINCE_TYPES]
    return tuple(sorted(provinces, key=lambda p: p[1]))
