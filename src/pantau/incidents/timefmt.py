"""Times and durations in the reader's zone and language ("18:33 WIB", "18.33 WIB")."""

from __future__ import annotations

from datetime import datetime, tzinfo

from pantau.signals import Text

# Indonesia's three zones have names every reader knows; elsewhere tzname() is fine.
_ZONE_NAMES = {
    "Asia/Jakarta": "WIB",
    "Asia/Pontianak": "WIB",
    "Asia/Makassar": "WITA",
    "Asia/Jayapura": "WIT",
}
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
              "Dec")
_MONTHS_ID = ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov",
              "Des")


def zone_label(at: datetime, tz: tzinfo) -> str:
    key = getattr(tz, "key", "")
    return _ZONE_NAMES.get(key) or at.astimezone(tz).tzname() or "UTC"


def clock_time(at: datetime, tz: tzinfo, reference: datetime | None = None) -> Text:
    """"18:33 WIB" / "18.33 WIB", with the date when it is not the reference's day."""
    local = at.astimezone(tz)
    label = zone_label(at, tz)
    en = f"{local:%H:%M} {label}"
    id_ = f"{local:%H.%M} {label}"
    if reference is not None and reference.astimezone(tz).date() != local.date():
        en = f"{local.day} {_MONTHS_EN[local.month - 1]} {en}"
        id_ = f"{local.day} {_MONTHS_ID[local.month - 1]} {id_}"
    return Text(en, id_)


def duration(minutes: int) -> Text:
    if minutes < 90:
        unit = "minute" if minutes == 1 else "minutes"
        return Text(f"{minutes} {unit}", f"{minutes} menit")
    hours, rest = divmod(minutes, 60)
    if rest == 0:
        return Text(f"{hours} hours", f"{hours} jam")
    return Text(f"{hours} h {rest} min", f"{hours} jam {rest} menit")
