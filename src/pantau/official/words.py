"""What a vendor's incident status means, in words of both languages.

One table for `pantau official`, the incident timeline and the service page, so a
vendor's "identified" reads the same everywhere and never reaches an Indonesian
reader as the vendor's English code.
"""

from __future__ import annotations

from pantau.signals import Text

STATUS_WORDS: dict[str, Text] = {
    "investigating": Text("investigating", "sedang diselidiki"),
    "identified": Text("cause identified", "penyebab ditemukan"),
    "monitoring": Text("fix deployed, monitoring", "perbaikan diterapkan, dipantau"),
    "resolved": Text("resolved", "selesai"),
    "postmortem": Text("post-mortem", "analisis pascainsiden"),
    "scheduled": Text("scheduled", "terjadwal"),
    "in_progress": Text("in progress", "sedang berlangsung"),
    "verifying": Text("verifying", "sedang diverifikasi"),
    "completed": Text("completed", "selesai"),
}


def status_words(status: str) -> Text:
    """A known status in words; one the vendor invented, as the vendor wrote it."""
    return STATUS_WORDS.get(status) or Text(status, status)
