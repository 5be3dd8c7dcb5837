"""Is it me or them? `pantau check`'s conclusion from local checks and the server's view.

Pure: the CLI runs the checks (resolver, independent hosts, captive portal, the service
itself from here) and asks a pantau server; this module only weighs what they found.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pantau.signals import Layer, Text


class Verdict(StrEnum):
    NOT_JUST_YOU = "not_just_you"
    JUST_YOU = "just_you"
    NO_PROBLEM = "no_problem"


EXIT_CODES = {Verdict.NO_PROBLEM: 0, Verdict.NOT_JUST_YOU: 1, Verdict.JUST_YOU: 3}

# A CDN's error page about the server behind it, or the application's own errors, are
# only ever produced by a live provider: the fault is theirs, whoever looks.
_PROVIDER_LAYERS = frozenset({Layer.EDGE, Layer.ORIGIN, Layer.APP, Layer.OVERLOAD,
                              Layer.MAINTENANCE})


@dataclass(frozen=True, slots=True)
class HostCheck:
    """One "can I reach the internet?" URL: reached at all, and answered as expected."""

    url: str
    reached: bool
    expected: bool
    detail: str = ""


@dataclass(frozen=True, slots=True)
class EndpointCheck:
    url: str
    ok: bool
    layer: Layer
    cause: str
    status: int | None = None
    explanation: Text | None = None


@dataclass(frozen=True, slots=True)
class LocalFindings:
    resolver_ok: bool | None
    """None when no name needed resolving."""
    resolver_detail: str = ""
    hosts: tuple[HostCheck, ...] = ()
    endpoints: tuple[EndpointCheck, ...] = ()

    @property
    def hosts_reached(self) -> int:
        return sum(h.reached for h in self.hosts)

    @property
    def captive_portal(self) -> bool:
        """Hosts answered, but not with what they always answer: something intercepts."""
        reached = [h for h in self.hosts if h.reached]
        return bool(reached) and not any(h.expected for h in reached)

    @property
    def offline(self) -> bool:
        return bool(self.hosts) and self.hosts_reached == 0


@dataclass(frozen=True, slots=True)
class Conclusion:
    verdict: Verdict
    layer: Layer
    text: Text
    advice: tuple[Text, ...] = field(default_factory=tuple)

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.verdict]


def _local_problem(local: LocalFindings) -> Text | None:
    if local.offline:
        return Text("none of the independent test hosts can be reached from here: this "
                    "device is not connected to the internet",
                    "tidak satu pun host uji independen dapat dihubungi dari sini: perangkat "
                    "ini tidak terhubung ke internet")
    if local.captive_portal:
        return Text("the test hosts answer with someone else's page: a captive portal "
                    "(hotel, café or office Wi-Fi login) is intercepting your traffic",
                    "host uji menjawab dengan halaman lain: ada captive portal (login Wi-Fi "
                    "hotel, kafe atau kantor) yang mencegat lalu lintas Anda")
    if local.resolver_ok is False:
        return Text(f"your DNS resolver does not answer ({local.resolver_detail})",
                    f"resolver DNS Anda tidak menjawab ({local.resolver_detail})")
    return None


def conclude(local: LocalFindings, server: Mapping[str, Any] | None, name: str) -> Conclusion:
    """Weigh local findings against the server's status JSON (None if unreachable)."""
    state = server.get("state") if server else None
    layer = Layer(server["layer"]) if server and server.get("layer") else Layer.NONE
    scope = server.get("scope") if server else None
    bad_globally = state in ("outage", "degraded", "maintenance") and scope != "region" \
        and layer is not Layer.CLIENT
    problem = _local_problem(local)
    failing = [e for e in local.endpoints if not e.ok]

    if bad_globally and server is not None:
        return Conclusion(
            Verdict.NOT_JUST_YOU, layer,
            Text(f"Not just you: {server['verdict']['en']}",
                 f"Bukan hanya Anda: {server['verdict']['id']}"),
            tuple(Text(a["text"]["en"], a["text"]["id"]) for a in server.get("advice", ())),
        )
    if problem is not None:
        return Conclusion(
            Verdict.JUST_YOU, Layer.CLIENT,
            Text(f"Just you: {problem.en}. {name} itself "
                 f"{'works for others' if server else 'could not be asked about'}.",
                 f"Hanya Anda: {problem.id}. {name} sendiri "
                 f"{'berjalan bagi orang lain' if server else 'tidak dapat ditanyakan'}."),
            _CONNECTION_ADVICE,
        )
    if failing:
        first = failing[0]
        if server is None and first.layer in _PROVIDER_LAYERS:
            # The server cannot be asked, but a CDN error page about the origin (or the
            # application's own error) is what everyone gets.
            return Conclusion(
                Verdict.NOT_JUST_YOU, first.layer,
                _with_explanation(Text(f"Not just you: {name} fails from here with an error "
                                       f"only the provider causes",
                                       f"Bukan hanya Anda: {name} gagal dari sini dengan "
                                       f"galat yang hanya disebabkan penyedia"), first),
                (Text("Wait a few minutes and try again.",
                      "Tunggu beberapa menit lalu coba lagi."),),
            )
        scope_words = (Text("others can use it", "orang lain dapat menggunakannya")
                       if server else Text("pantau's server could not be asked",
                                           "server pantau tidak dapat ditanyakan"))
        return Conclusion(
            Verdict.JUST_YOU, first.layer,
            _with_explanation(Text(f"Just you: {name} fails from your connection, but "
                                   f"{scope_words.en}",
                                   f"Hanya Anda: {name} gagal dari koneksi Anda, tetapi "
                                   f"{scope_words.id}"), first),
            _CONNECTION_ADVICE,
        )
    if state == "unknown" or server is None:
        return Conclusion(
            Verdict.NO_PROBLEM, Layer.NONE,
            Text(f"No problem known: {name} works from here (pantau's server has no "
                 f"current view of it)",
                 f"Tidak ada masalah yang diketahui: {name} berjalan dari sini (server pantau "
                 f"belum punya gambaran terkini)"),
        )
    return Conclusion(
        Verdict.NO_PROBLEM, Layer.NONE,
        Text(f"No problem known: {name} works from here and for others",
             f"Tidak ada masalah yang diketahui: {name} berjalan dari sini dan bagi orang lain"),
        (Text("If one feature still fails, report it so that others can see it.",
              "Jika satu fitur masih gagal, laporkan agar orang lain dapat melihatnya."),),
    )


def _with_explanation(head: Text, e: EndpointCheck) -> Text:
    if e.explanation is None:
        return Text(f"{head.en} ({e.cause}).", f"{head.id} ({e.cause}).")
    return Text(f"{head.en}: {e.explanation.en}", f"{head.id}: {e.explanation.id}")


_CONNECTION_ADVICE = (
    Text("Check your own connection: switch between Wi-Fi and mobile data, restart the "
         "router, or turn a VPN off.",
         "Periksa koneksi Anda: beralih antara Wi-Fi dan data seluler, nyalakan ulang "
         "router, atau matikan VPN."),
    Text("If other people on your provider have the same problem, contact the provider.",
         "Jika pengguna lain di penyedia Anda mengalami masalah yang sama, hubungi "
         "penyedia internet Anda."),
)


def findings_json(local: LocalFindings) -> dict[str, Any]:
    return {
        "resolver_ok": local.resolver_ok, "resolver_detail": local.resolver_detail,
        "hosts": [{"url": h.url, "reached": h.reached, "expected": h.expected,
                   "detail": h.detail} for h in local.hosts],
        "captive_portal": local.captive_portal, "offline": local.offline,
        "service": [{"url": e.url, "ok": e.ok, "layer": e.layer.value, "cause": e.cause,
                     "status": e.status} for e in local.endpoints],
    }

