"""Words for values that pages show (states, layers, report categories), in both languages.

These name data rather than page furniture, so they travel with the data as `Text`
instead of living in the gettext catalog.
"""

from __future__ import annotations

from pantau.signals import Layer, ServiceState, Text

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
    "website": Text("Website", "Situs web"),
    "app": Text("App", "Aplikasi"),
    "login": Text("Login", "Login"),
    "api": Text("API", "API"),
    "other": Text("Other", "Lainnya"),
}

BOX = {
    True: Text("Working", "Berfungsi"),
    False: Text("Error", "Galat"),
    None: Text("Not reached", "Tidak tercapai"),
}
