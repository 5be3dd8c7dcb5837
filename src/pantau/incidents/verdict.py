"""The verdict sentence: state, since when, why, whose fault, how long, what the vendor says.

"ChatGPT is down for everyone since 18:33 WIB; the server behind Cloudflare is not
answering; it is not your connection; the last similar outage lasted 50 minutes; the
official ChatGPT status page has not said anything yet."
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo

from pantau.incidents.advice import official_text, past_text
from pantau.incidents.attribute import cdn_name
from pantau.incidents.model import Assessment, Incident, Scope
from pantau.incidents.timefmt import clock_time
from pantau.regions import region_name
from pantau.signals import Layer, OfficialStatus, ServiceState, Text


def verdict(a: Assessment, incident: Incident | None, official: OfficialStatus | None,
            past_minutes: Sequence[int], name: str, tz: tzinfo,
            shared: Incident | None = None) -> Text:
    since = clock_time(incident.started_at if incident else a.at, tz, a.at)
    parts: list[Text] = [_head(a, name, since)]
    regional = a.scope is Scope.REGION or a.layer is Layer.CLIENT
    if (a.bad or regional) and a.cause is not None:
        parts.append(a.cause)
    if shared is not None and shared.open:
        others = [s for s in shared.members if s != a.service]
        cdn = cdn_name(shared.cdn)
        parts.append(Text(
            f"it is part of a wider {cdn} problem hitting {len(others)} other services",
            f"ini bagian dari masalah {cdn} yang lebih luas yang juga mengenai "
            f"{len(others)} layanan lain",
        ))
    if regional:
        parts.append(Text(f"{name} itself works elsewhere",
                          f"{name} sendiri berjalan di tempat lain"))
    elif a.bad and a.state is not ServiceState.MAINTENANCE and a.layer is not Layer.BLOCKED:
        parts.append(Text("it is not your connection", "ini bukan masalah koneksi Anda"))
        past = past_text(past_minutes)
        if past is not None:
            parts.append(past)
    if a.bad and official is not None:
        parts.append(official_text(official, incident, name))
    return Text(_sentence([p.en for p in parts]), _sentence([p.id for p in parts]))


def _head(a: Assessment, name: str, since: Text) -> Text:
    if a.state is ServiceState.OUTAGE:
        return Text(f"{name} is down for everyone since {since.en}",
                    f"{name} sedang down untuk semua orang sejak {since.id}")
    if a.state is ServiceState.MAINTENANCE:
        return Text(f"{name} is under planned maintenance since {since.en}",
                    f"{name} sedang dalam pemeliharaan terjadwal sejak {since.id}")
    if a.scope is Scope.REGION:
        en, id_ = region_name(a.region or "", "en"), region_name(a.region or "", "id")
        return Text(f"{name} works, but people in {en} ({a.region}) report problems",
                    f"{name} berjalan, tetapi orang di {id_} ({a.region}) melaporkan masalah")
    if a.state is ServiceState.DEGRADED:
        return Text(f"{name} has problems for some people since {since.en}",
                    f"{name} bermasalah bagi sebagian pengguna sejak {since.id}")
    if a.state is ServiceState.UNKNOWN:
        return Text(f"pantau has no recent data about {name}",
                    f"pantau belum punya data terbaru tentang {name}")
    return Text(f"{name} is working normally; no problem is known",
                f"{name} berjalan normal; tidak ada gangguan yang diketahui")


def _sentence(parts: list[str]) -> str:
    text = "; ".join(p for p in parts if p)
    return text[:1].upper() + text[1:] + "."

