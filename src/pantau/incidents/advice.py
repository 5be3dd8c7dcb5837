"""What the reader should do now, per cause, in both languages.

Advice only states what pantau knows: past durations come from pantau's own resolved
incidents of the same kind, and the official page is quoted with how late it spoke.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo
from statistics import median

from pantau.incidents.attribute import official_words
from pantau.incidents.model import Advice, Assessment, Incident, Scope
from pantau.incidents.timefmt import clock_time, duration
from pantau.signals import Layer, OfficialStatus, ServiceState, Text

_PROVIDER_SIDE = frozenset({Layer.DNS, Layer.NETWORK, Layer.TLS, Layer.EDGE, Layer.ORIGIN,
                            Layer.APP, Layer.OVERLOAD})


def past_text(past_minutes: Sequence[int]) -> Text | None:
    """"the last similar outage lasted 50 minutes", from most-recent-first durations."""
    if not past_minutes:
        return None
    last = duration(past_minutes[0])
    if len(past_minutes) == 1:
        return Text(f"the last similar outage lasted {last.en}",
                    f"gangguan serupa terakhir berlangsung {last.id}")
    typical = duration(round(median(past_minutes)))
    return Text(
        f"the last similar outage lasted {last.en} ({len(past_minutes)} similar ones: "
        f"typically {typical.en})",
        f"gangguan serupa terakhir berlangsung {last.id} ({len(past_minutes)} gangguan "
        f"serupa: biasanya {typical.id})",
    )


def official_text(official: OfficialStatus | None, incident: Incident | None,
                  name: str) -> Text:
    """What the vendor says now, and how long after the start it first said so."""
    if official is None or official.error:
        return Text(f"pantau cannot read the official {name} status page",
                    f"pantau tidak dapat membaca halaman status resmi {name}")
    active = [i for i in official.incidents if i.status not in ("resolved", "postmortem")]
    if incident is not None and incident.official_ack_at is not None:
        late = round((incident.official_ack_at - incident.started_at).total_seconds() / 60)
        said = (Text(active[0].title, active[0].title) if active
                else official_words(official))
        return Text(
            f"the official {name} status page says \u201c{said.en}\u201d "
            f"(first said {late} minutes after the problems started)",
            f"halaman status resmi {name} menyebut \u201c{said.id}\u201d "
            f"(pertama kali {late} menit setelah gangguan dimulai)",
        )
    if incident is not None:
        return Text(f"the official {name} status page has not said anything yet",
                    f"halaman status resmi {name} belum menyebut apa pun")
    said = official_words(official)
    return Text(f"the official {name} status page says \u201c{said.en}\u201d",
                f"halaman status resmi {name} menyebut \u201c{said.id}\u201d")


def advise(a: Assessment, incident: Incident | None, official: OfficialStatus | None,
           past_minutes: Sequence[int], name: str, tz: tzinfo) -> tuple[Advice, ...]:
    out: list[Advice] = []
    page = official.page_url if official is not None else None
    if a.state is ServiceState.MAINTENANCE:
        until = _maintenance_end(official)
        when = (Text(f" until {clock_time(until, tz, a.at).en}",
                     f" hingga {clock_time(until, tz, a.at).id}") if until else Text("", ""))
        out.append(Advice("maintenance", Text(
            f"This is planned maintenance{when.en}; wait until it ends, there is nothing "
            f"to fix on your side.",
            f"Ini pemeliharaan terjadwal{when.id}; tunggu hingga selesai, tidak ada yang "
            f"perlu diperbaiki di sisi Anda.")))
    elif a.scope is Scope.REGION or a.layer is Layer.CLIENT:
        where = a.region or "one region"
        out.append(Advice("check_connection", Text(
            f"Problems come only from {where}: check your own connection, try another "
            f"network (for example mobile data instead of Wi-Fi) or contact your internet "
            f"provider. {name} itself works elsewhere.",
            f"Masalah hanya datang dari {where}: periksa koneksi Anda, coba jaringan lain "
            f"(misalnya data seluler alih-alih Wi-Fi) atau hubungi penyedia internet Anda. "
            f"{name} sendiri berjalan di tempat lain.")))
    elif a.layer is Layer.BLOCKED:
        out.append(Advice("blocked", Text(
            f"{name} is up but refuses some networks: turn off a VPN or proxy, or try "
            f"another network.",
            f"{name} berjalan tetapi menolak sebagian jaringan: matikan VPN atau proxy, atau "
            f"coba jaringan lain.")))
    elif a.bad and a.layer in _PROVIDER_SIDE:
        past = past_text(past_minutes)
        how_long = (Text(f" For reference, {past.en}.", f" Sebagai gambaran, {past.id}.")
                    if past else Text(
                        " pantau has no past incident of this kind to compare with.",
                        " pantau belum punya gangguan serupa sebelumnya sebagai pembanding."))
        if a.layer is Layer.OVERLOAD:
            text = Text(
                f"{name} is overloaded: wait a few minutes before retrying; repeated "
                f"refreshing adds to the load.{how_long.en}",
                f"{name} kelebihan beban: tunggu beberapa menit sebelum mencoba lagi; "
                f"memuat ulang berkali-kali menambah beban.{how_long.id}")
        else:
            text = Text(
                f"The fault is on {name}'s side, not yours: wait and retry in a few "
                f"minutes.{how_long.en}",
                f"Gangguan ada di sisi {name}, bukan di sisi Anda: tunggu lalu coba lagi "
                f"beberapa menit lagi.{how_long.id}")
        out.append(Advice("wait", text))
        if a.feature == "login":
            out.append(Advice("stay_logged_in", Text(
                "If you are still logged in somewhere, stay logged in; resetting your "
                "password will not help.",
                "Jika Anda masih login di suatu perangkat, jangan logout; mengatur ulang "
                "kata sandi tidak akan membantu.")))
    if a.bad or (official is not None and official.page_state.value != "operational"):
        words = official_text(official, incident, name)
        if page:
            out.append(Advice("follow_official", Text(
                f"Follow the official status page for news: {words.en}.",
                f"Ikuti halaman status resmi untuk kabar terbaru: {words.id}."), url=page))
    if not out:
        out.append(Advice("none", Text(
            f"No problem is known with {name}. If it fails for you, run pantau check "
            f"or report it below.",
            f"Tidak ada gangguan {name} yang diketahui. Jika gagal bagi Anda, jalankan "
            f"pantau check atau laporkan di bawah.")))
    return tuple(out)


def _maintenance_end(official: OfficialStatus | None) -> datetime | None:
    if official is None:
        return None
    ends = [m.scheduled_until for m in official.maintenance if m.scheduled_until is not None]
    return max(ends) if ends else None
