"""Which layer failed, in words, with the evidence: read from classified probe verdicts.

The probe classifier already names a layer per probe; attribution takes the latest verdict
per (monitor, vantage point), draws the You · CDN · Host boxes for each vantage point,
picks the dominant failing layer and says how much of the evidence supports it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from pantau.incidents.model import VantageBox
from pantau.signals import Layer, OfficialPageState, OfficialStatus, ProbeVerdict, Text

CDN_NAMES = {
    "cloudflare": "Cloudflare",
    "cloudfront": "CloudFront",
    "fastly": "Fastly",
    "akamai": "Akamai",
    "nginx": "nginx",
}

# Layers at which the service answered through its CDN: the edge box is green.
_EDGE_PASSED = {Layer.ORIGIN, Layer.APP, Layer.OVERLOAD, Layer.MAINTENANCE, Layer.BLOCKED}


def cdn_name(cdn: str | None) -> str:
    if not cdn:
        return ""
    return CDN_NAMES.get(cdn.lower(), cdn)


def latest_verdicts(probes: Iterable[ProbeVerdict]) -> list[ProbeVerdict]:
    """The newest verdict per (monitor, vantage point); older ones are superseded."""
    latest: dict[tuple[str, str], ProbeVerdict] = {}
    for v in probes:
        key = (v.monitor, v.vantage)
        if key not in latest or v.at > latest[key].at:
            latest[key] = v
    return sorted(latest.values(), key=lambda v: (v.vantage, v.monitor))


def counts_as_failure(v: ProbeVerdict) -> bool:
    """A per-visitor block or challenge means the service is up: not an outage signal."""
    return not v.ok and v.layer is not Layer.BLOCKED


def box_for(v: ProbeVerdict, service_cdn: str | None) -> VantageBox:
    cdn = v.cdn or service_cdn
    edge: bool | None
    host: bool | None
    if v.ok:
        edge, host = (True if cdn else None), True
    elif v.layer is Layer.EDGE:
        edge, host = False, None
    elif v.layer in _EDGE_PASSED:
        edge, host = (True if cdn else None), v.layer is Layer.BLOCKED
    elif cdn:
        # DNS, connect or TLS failed before any CDN answered: the edge is what failed to
        # answer; nothing is known about the host behind it.
        edge, host = (None if v.layer is Layer.CLIENT else False), None
    else:
        edge, host = None, (None if v.layer is Layer.CLIENT else False)
    return VantageBox(
        vantage=v.vantage, ok=v.ok, reliable=v.reliable, layer=v.layer, cause=v.cause,
        cdn=cdn, status=v.status, total_ms=v.total_ms,
        you=v.reliable and v.layer is not Layer.CLIENT, edge=edge, host=host,
    )


def vantage_boxes(verdicts: Sequence[ProbeVerdict], service_cdn: str | None) -> list[VantageBox]:
    """One box row per vantage point: its failing verdict if most of its monitors fail."""
    by_vantage: dict[str, list[ProbeVerdict]] = {}
    for v in verdicts:
        by_vantage.setdefault(v.vantage, []).append(v)
    rows = []
    for vantage in sorted(by_vantage):
        vs = by_vantage[vantage]
        failing = [v for v in vs if counts_as_failure(v)]
        reliable = all(v.reliable for v in vs)
        if failing and 2 * len(failing) >= len(vs):
            pick = failing[0]
        else:
            pick = next((v for v in vs if v.ok), vs[0])
        box = box_for(pick, service_cdn)
        if not reliable and box.you:
            box = replace(box, reliable=False, you=False)
        rows.append(box)
    return rows


@dataclass(frozen=True, slots=True)
class Attribution:
    layer: Layer
    share: float
    """Fraction of the failing verdicts that support `layer`."""
    cdn: str | None
    statuses: tuple[int, ...]
    causes: tuple[str, ...]
    cause: Text
    evidence: Text


def attribute(failing: Sequence[ProbeVerdict], service_cdn: str | None) -> Attribution | None:
    """The dominant failing layer among reliable failing verdicts, or None if none fail."""
    if not failing:
        return None
    by_layer = Counter(v.layer for v in failing)
    # Most common layer; ties broken by the order of Layer (closest to the reader first)
    # so that the outcome does not depend on input order.
    order = list(Layer)
    layer = max(by_layer, key=lambda lay: (by_layer[lay], -order.index(lay)))
    support = [v for v in failing if v.layer is layer]
    cdn = Counter(v.cdn or service_cdn for v in support).most_common(1)[0][0]
    statuses = tuple(sorted({v.status for v in support if v.status is not None}))
    causes = tuple(c for c, _ in Counter(v.cause for v in support if v.cause).most_common(3))
    share = len(support) / len(failing)
    return Attribution(
        layer=layer, share=share, cdn=cdn, statuses=statuses, causes=causes,
        cause=cause_text(layer, cdn), evidence=_evidence(layer, share, cdn, statuses, causes),
    )


def cause_text(layer: Layer, cdn: str | None) -> Text:
    """The fault in a few words, as it appears inside the verdict sentence."""
    name = cdn_name(cdn)
    if layer is Layer.ORIGIN:
        if name:
            return Text(f"the server behind {name} is not answering",
                        f"server di balik {name} tidak menjawab")
        return Text("the server behind the gateway is not answering",
                    "server di balik gateway tidak menjawab")
    if layer is Layer.EDGE:
        if name:
            return Text(f"{name} itself is failing", f"{name} sendiri sedang bermasalah")
        return Text("the content delivery network is failing",
                    "jaringan pengiriman konten sedang bermasalah")
    return _LAYER_CAUSES.get(layer, Text("the cause is not known yet",
                                         "penyebabnya belum diketahui"))


_LAYER_CAUSES = {
    Layer.DNS: Text("its domain names do not resolve", "nama domainnya tidak dapat di-resolve"),
    Layer.NETWORK: Text("its servers cannot be reached", "servernya tidak dapat dihubungi"),
    Layer.TLS: Text("secure (TLS) connections to it fail",
                    "koneksi aman (TLS) ke layanan ini gagal"),
    Layer.APP: Text("the service answers with errors", "layanan menjawab dengan galat"),
    Layer.OVERLOAD: Text("the service is overloaded and turning people away",
                         "layanan kelebihan beban dan menolak sebagian pengguna"),
    Layer.MAINTENANCE: Text("it is under planned maintenance",
                            "layanan sedang dalam pemeliharaan terjadwal"),
    Layer.BLOCKED: Text("the service refuses some networks with block or challenge pages",
                        "layanan menolak sebagian jaringan dengan halaman blokir atau tantangan"),
    Layer.CLIENT: Text("the problem is in the reader's own connection",
                       "masalahnya ada pada koneksi pembaca sendiri"),
}


def _codes(statuses: tuple[int, ...]) -> str:
    return "/".join(str(s) for s in statuses)


def _evidence(layer: Layer, share: float, cdn: str | None, statuses: tuple[int, ...],
              causes: tuple[str, ...]) -> Text:
    pct = f"{round(share * 100)} %"
    name = cdn_name(cdn)
    codes = _codes(statuses)
    detail = f" ({', '.join(causes)})" if causes else ""
    if layer is Layer.ORIGIN and name:
        box = " with the Host box in error" if cdn == "cloudflare" else ""
        box_id = " dengan kotak Host bertanda error" if cdn == "cloudflare" else ""
        return Text(
            f"{pct} of probe failures are {name} {codes} pages{box}: the origin is failing; "
            f"{name} itself works",
            f"{pct} kegagalan probe berupa halaman {name} {codes}{box_id}: server asal "
            f"gagal; {name} sendiri berfungsi",
        )
    if layer is Layer.EDGE and name:
        return Text(
            f"{pct} of probe failures are {name}'s own {codes} error pages: {name} itself "
            f"is failing, not the server behind it",
            f"{pct} kegagalan probe berupa halaman galat {codes} milik {name} sendiri: "
            f"{name} yang bermasalah, bukan server di belakangnya",
        )
    words = _LAYER_WORDS.get(layer, Text(str(layer), str(layer)))
    status = f" (HTTP {codes})" if codes else ""
    return Text(f"{pct} of probe failures are {words.en}{status}{detail}",
                f"{pct} kegagalan probe berupa {words.id}{status}{detail}")


_LAYER_WORDS = {
    Layer.DNS: Text("DNS lookup failures", "kegagalan pencarian DNS"),
    Layer.NETWORK: Text("connection failures", "kegagalan koneksi"),
    Layer.TLS: Text("TLS handshake or certificate failures",
                    "kegagalan jabat tangan atau sertifikat TLS"),
    Layer.EDGE: Text("errors from the front server", "galat dari server depan"),
    Layer.ORIGIN: Text("gateway errors from the front server",
                       "galat gateway dari server depan"),
    Layer.APP: Text("error responses from the service itself",
                    "respons galat dari layanan itu sendiri"),
    Layer.OVERLOAD: Text("load-shedding responses (with Retry-After)",
                         "respons penolakan beban (dengan Retry-After)"),
    Layer.MAINTENANCE: Text("maintenance pages", "halaman pemeliharaan"),
    Layer.CLIENT: Text("failures of the probing network itself",
                       "kegagalan jaringan pemeriksa itu sendiri"),
}


PAGE_STATE_WORDS = {
    OfficialPageState.OPERATIONAL: Text("all systems operational", "semua sistem normal"),
    OfficialPageState.DEGRADED: Text("degraded performance", "kinerja menurun"),
    OfficialPageState.PARTIAL_OUTAGE: Text("partial outage", "gangguan sebagian"),
    OfficialPageState.MAJOR_OUTAGE: Text("major outage", "gangguan besar"),
    OfficialPageState.MAINTENANCE: Text("under maintenance", "dalam pemeliharaan"),
}


def official_words(official: OfficialStatus) -> Text:
    """What the vendor's page says overall: its own summary, else its state in words."""
    if official.description:
        return Text(official.description, official.description)
    return PAGE_STATE_WORDS[official.page_state]
