"""Words for values that pages show (states, layers, report categories), in both languages.

These name data rather than page furniture, so they travel with the data as `Text`
instead of living in the gettext catalog.
"""

from __future__ import annotations

from collections.abc import Sequence

from pantau.crowd.validate import Category
from pantau.incidents.model import VantageBox
from pantau.signals import Layer, ServiceState, Text, counted

STATE = {
    ServiceState.OPERATIONAL: Text("working", "normal"),
    ServiceState.DEGRADED: Text("problems", "bermasalah"),
    ServiceState.OUTAGE: Text("down", "down"),
    ServiceState.MAINTENANCE: Text("maintenance", "pemeliharaan"),
    ServiceState.UNKNOWN: Text("unknown", "tidak diketahui"),
}

LAYER = {
    Layer.NONE: Text("nothing wrong", "tidak ada masalah"),
    Layer.CLIENT: Text("the reader's own connection", "koneksi pembaca sendiri"),
    Layer.DNS: Text("DNS (names do not resolve)", "DNS (nama tidak dapat di-resolve)"),
    Layer.NETWORK: Text("network (cannot connect)", "jaringan (tidak dapat terhubung)"),
    Layer.TLS: Text("TLS (secure connection)", "TLS (koneksi aman)"),
    Layer.EDGE: Text("CDN edge", "edge CDN"),
    Layer.ORIGIN: Text("origin server behind the CDN", "server asal di balik CDN"),
    Layer.APP: Text("the application", "aplikasinya"),
    Layer.OVERLOAD: Text("overload", "kelebihan beban"),
    Layer.MAINTENANCE: Text("planned maintenance", "pemeliharaan terjadwal"),
    Layer.BLOCKED: Text("blocked for some networks", "diblokir bagi sebagian jaringan"),
}

CATEGORY = {
    Category.WEBSITE.value: Text("Website", "Situs web"),
    Category.APP.value: Text("App", "Aplikasi"),
    Category.LOGIN.value: Text("Login", "Login"),
    Category.API.value: Text("API", "API"),
    Category.PAYMENTS.value: Text("Payments", "Pembayaran"),
    Category.MESSAGES.value: Text("Messages", "Pesan"),
    Category.OTHER.value: Text("Other", "Lainnya"),
}
"""Every problem a report may name (`Category`), in the order the form offers them."""

BOX = {
    True: Text("Working", "Berfungsi"),
    False: Text("Error", "Galat"),
    None: Text("Not reached", "Tidak tercapai"),
}


# Half the vantage points that know see it working and half see an error: neither word
# alone would be true.
SPLIT = Text("Mixed", "Campuran")


def majority(values: list[bool | None]) -> tuple[bool | None, Text]:
    """One box for all vantage points, and its word: what most of those that know saw,
    None if none know; an even split is not ok and says so."""
    known = [v for v in values if v is not None]
    if not known:
        return None, BOX[None]
    working = sum(known) * 2
    if working == len(known):
        return False, SPLIT
    ok = working > len(known)
    return ok, BOX[ok]


def summary_boxes(boxes: Sequence[VantageBox], reporters: int, expected: float,
                  surge: bool) -> list[tuple[Text, bool | None, Text, Text]]:
    """The You · CDN · Host boxes over every reliable vantage point, plus the crowd box:
    (label, ok, state in words, detail)."""
    reliable = [b for b in boxes if b.reliable]
    you = majority([b.you for b in boxes])
    edge, host = majority([b.edge for b in reliable]), majority([b.host for b in reliable])
    usual_en = f"{expected:.1f}"
    return [
        (Text("You", "Anda"), *you,
         Text(f"{len(reliable)} of {len(boxes)} vantage points online",
              f"{len(reliable)} dari {len(boxes)} titik pantau daring")),
        (Text("CDN", "CDN"), *edge, Text("", "")),
        (Text("Host", "Host"), *host, Text("", "")),
        (Text("Crowd", "Laporan warga"), not surge,
         Text("Surge", "Lonjakan") if surge else Text("Normal", "Normal"),
         Text(f"{counted(reporters, 'report', 'reports')} a minute (usually {usual_en})",
              f"{reporters} laporan per menit (biasanya {usual_en.replace('.', ',')})")),
    ]
