"""Plain-language explanations of each verdict, in English and Bahasa Indonesia.

Written for someone who just wants to know whether to wait, retry or check their own
connection, so they avoid jargon and say who is at fault. `{front}` is the CDN or
server that answered; `{status}` the HTTP status.
"""

from __future__ import annotations

from pantau.probes import cdn as cdns
from pantau.signals import Layer, Text

_FRONT_NAMES = {
    cdns.CLOUDFLARE: "Cloudflare",
    cdns.CLOUDFRONT: "Amazon CloudFront",
    cdns.FASTLY: "Fastly",
    cdns.AKAMAI: "Akamai",
    cdns.NGINX: "nginx",
}

_T = Text

_BY_CAUSE: dict[str, Text] = {
    "ok": _T("The service answered normally.", "Layanan menjawab dengan normal."),
    "target_refused": _T(
        "pantau did not check this address: it points into a private or internal network.",
        "pantau tidak memeriksa alamat ini: alamatnya menunjuk ke jaringan privat atau internal.",
    ),
    "nxdomain": _T(
        "The service's name does not exist in DNS, so no one can find its servers.",
        "Nama layanan tidak ada di DNS, jadi servernya tidak bisa ditemukan siapa pun.",
    ),
    "servfail": _T(
        "The DNS servers for this service are failing, so its address cannot be looked up.",
        "Server DNS layanan ini sedang gagal, jadi alamatnya tidak bisa dicari.",
    ),
    "dns_timeout": _T(
        "Looking up the service's address took too long: its DNS is not answering.",
        "Pencarian alamat layanan terlalu lama: DNS-nya tidak menjawab.",
    ),
    "no_address": _T(
        "The service's name exists but has no address to connect to.",
        "Nama layanan ada, tetapi tidak punya alamat untuk dihubungi.",
    ),
    "connect_refused": _T(
        "The service's server refused the connection: nothing is listening there right now.",
        "Server layanan menolak koneksi: saat ini tidak ada yang melayani di sana.",
    ),
    "connect_timeout": _T(
        "The service's server could not be reached in time: the network path to it is broken.",
        "Server layanan tidak bisa dijangkau tepat waktu: jalur jaringan ke sana terputus.",
    ),
    "unreachable": _T(
        "There is no network route to the service's server.",
        "Tidak ada jalur jaringan ke server layanan.",
    ),
    "certificate_expired": _T(
        "The service's security certificate has expired, so browsers refuse to connect safely.",
        "Sertifikat keamanan layanan sudah kedaluwarsa, jadi peramban menolak terhubung.",
    ),
    "certificate_expiring": _T(
        "The service works, but its security certificate expires very soon.",
        "Layanan berjalan, tetapi sertifikat keamanannya akan segera kedaluwarsa.",
    ),
    "hostname_mismatch": _T(
        "The service presented a security certificate for a different name.",
        "Layanan memakai sertifikat keamanan untuk nama yang berbeda.",
    ),
    "certificate_untrusted": _T(
        "The service's security certificate is not from a trusted issuer.",
        "Sertifikat keamanan layanan tidak diterbitkan oleh pihak tepercaya.",
    ),
    "tls_handshake_failed": _T(
        "The secure connection to the service could not be set up.",
        "Koneksi aman ke layanan tidak bisa dibuat.",
    ),
    "client_side": _T(
        "{front} says the problem is on the visitor's side (browser or network).",
        "{front} menyatakan masalahnya ada di sisi pengunjung (peramban atau jaringan).",
    ),
    "edge_error": _T(
        "{front}, the network that delivers this service, is failing itself (error {status}).",
        "{front}, jaringan pengantar layanan ini, sedang bermasalah sendiri (galat {status}).",
    ),
    "unknown_domain": _T(
        "{front} does not know this site: the delivery network is misconfigured.",
        "{front} tidak mengenali situs ini: jaringan pengantarnya salah konfigurasi.",
    ),
    "bad_gateway": _T(
        "{front} is up, but the service's own server behind it answered badly (error {status}).",
        "{front} berjalan, tetapi server milik layanan di belakangnya menjawab tidak benar "
        "(galat {status}).",
    ),
    "gateway_timeout": _T(
        "{front} is up, but the service's own server behind it is too slow to answer "
        "(error {status}).",
        "{front} berjalan, tetapi server milik layanan di belakangnya terlalu lambat menjawab "
        "(galat {status}).",
    ),
    "origin_unreachable": _T(
        "{front} is up, but cannot reach the service's own server (error {status}).",
        "{front} berjalan, tetapi tidak bisa menghubungi server milik layanan (galat {status}).",
    ),
    "origin_tls": _T(
        "{front} is up, but the secure link to the service's own server fails (error {status}).",
        "{front} berjalan, tetapi koneksi aman ke server milik layanan gagal (galat {status}).",
    ),
    "origin_dns": _T(
        "{front} is up, but cannot find the service's own server (error {status}).",
        "{front} berjalan, tetapi tidak menemukan server milik layanan (galat {status}).",
    ),
    "backend_unhealthy": _T(
        "{front} is up, but marks the service's own servers as unhealthy (error {status}).",
        "{front} berjalan, tetapi menandai server milik layanan sebagai tidak sehat "
        "(galat {status}).",
    ),
    "response_timeout": _T(
        "The service's server accepted the connection but never answered.",
        "Server layanan menerima koneksi tetapi tidak pernah menjawab.",
    ),
    "connection_dropped": _T(
        "The service's server hung up before sending an answer.",
        "Server layanan memutus koneksi sebelum mengirim jawaban.",
    ),
    "server_error": _T(
        "The service's own server answered with an error (error {status}).",
        "Server milik layanan menjawab dengan galat (galat {status}).",
    ),
    "unexpected_status": _T(
        "The service answered, but not the way it normally does (status {status}).",
        "Layanan menjawab, tetapi tidak seperti biasanya (status {status}).",
    ),
    "content_mismatch": _T(
        "The service answered, but the page is missing what it should contain.",
        "Layanan menjawab, tetapi halamannya tidak berisi yang seharusnya.",
    ),
    "too_many_redirects": _T(
        "The service keeps redirecting without ever showing a page.",
        "Layanan terus mengalihkan tanpa pernah menampilkan halaman.",
    ),
    "rate_limited": _T(
        "The service is overloaded and is turning requests away; retry in a few minutes.",
        "Layanan kelebihan beban dan menolak permintaan; coba lagi beberapa menit lagi.",
    ),
    "service_unavailable": _T(
        "The service is temporarily unavailable, probably from heavy load; retry in a few minutes.",
        "Layanan untuk sementara tidak tersedia, kemungkinan karena beban berat; "
        "coba lagi beberapa menit lagi.",
    ),
    "slow_response": _T(
        "The service works, but answers far more slowly than it should: it is struggling.",
        "Layanan berjalan, tetapi menjawab jauh lebih lambat dari seharusnya: sedang kewalahan.",
    ),
    "maintenance": _T(
        "The service is down for planned maintenance.",
        "Layanan sedang dalam pemeliharaan terjadwal.",
    ),
    "challenge": _T(
        "The service is up; {front} asks this visitor to prove they are human first.",
        "Layanan berjalan; {front} meminta pengunjung ini membuktikan dirinya manusia dulu.",
    ),
    "visitor_blocked": _T(
        "The service is up, but refuses this particular visitor or network.",
        "Layanan berjalan, tetapi menolak pengunjung atau jaringan ini secara khusus.",
    ),
    "visitor_rate_limited": _T(
        "The service is up, but this visitor sent too many requests and must wait.",
        "Layanan berjalan, tetapi pengunjung ini terlalu banyak mengirim permintaan dan harus "
        "menunggu.",
    ),
}

_BY_LAYER: dict[Layer, Text] = {
    Layer.APP: _BY_CAUSE["server_error"],
    Layer.ORIGIN: _BY_CAUSE["bad_gateway"],
    Layer.EDGE: _BY_CAUSE["edge_error"],
    Layer.BLOCKED: _BY_CAUSE["visitor_blocked"],
    Layer.OVERLOAD: _BY_CAUSE["service_unavailable"],
}


def explain(layer: Layer, cause: str, cdn: str | None, status: int | None) -> Text:
    """The sentence for a verdict; every cause the classifier emits has its own."""
    template = _BY_CAUSE.get(cause) or _BY_LAYER.get(layer) or _BY_CAUSE["unexpected_status"]
    front_en = _FRONT_NAMES.get(cdn or "", "The front server")
    front_id = _FRONT_NAMES.get(cdn or "", "Server depan")
    shown = str(status) if status is not None else "?"
    return Text(
        en=template.en.format(front=front_en, status=shown),
        id=template.id.format(front=front_id, status=shown),
    )


def known_causes() -> frozenset[str]:
    return frozenset(_BY_CAUSE)
