"""Page errors: every way a status page can fail, with a message a person can read."""

from __future__ import annotations

from enum import StrEnum

from pantau.signals import Text


class ErrorKind(StrEnum):
    UNREACHABLE = "unreachable"
    TIMEOUT = "timeout"
    HTTP = "http"
    TRUNCATED = "truncated"
    MALFORMED = "malformed"
    UNSUPPORTED = "unsupported"
    REFUSED = "refused"


class PageError(Exception):
    """A status page could not be read. `text` is what the reader sees."""

    def __init__(self, kind: ErrorKind, url: str, text: Text, status: int | None = None) -> None:
        super().__init__(f"{url}: {text.en}")
        self.kind = kind
        self.url = url
        self.text = text
        self.status = status

    @property
    def message(self) -> str:
        return f"{self.url}: {self.text.en}"


def unreachable(url: str, detail: str) -> PageError:
    return PageError(
        ErrorKind.UNREACHABLE,
        url,
        Text(
            en=f"could not connect to the status page ({detail})",
            id=f"tidak dapat terhubung ke halaman status ({detail})",
        ),
    )


def timeout(url: str, seconds: float) -> PageError:
    return PageError(
        ErrorKind.TIMEOUT,
        url,
        Text(
            en=f"the status page did not answer within {seconds:g} s",
            id=f"halaman status tidak menjawab dalam {seconds:g} detik",
        ),
    )


def http_status(url: str, status: int) -> PageError:
    return PageError(
        ErrorKind.HTTP,
        url,
        Text(
            en=f"the status page answered HTTP {status}",
            id=f"halaman status menjawab HTTP {status}",
        ),
        status=status,
    )


def truncated(url: str, detail: str) -> PageError:
    return PageError(
        ErrorKind.TRUNCATED,
        url,
        Text(
            en=f"the status page's answer was cut off ({detail})",
            id=f"jawaban halaman status terpotong ({detail})",
        ),
    )


def malformed(url: str, detail: str) -> PageError:
    return PageError(
        ErrorKind.MALFORMED,
        url,
        Text(
            en=f"the status page's answer is not in the expected format: {detail}",
            id=f"jawaban halaman status tidak sesuai format yang diharapkan: {detail}",
        ),
    )


def refused(url: str, detail: str) -> PageError:
    return PageError(
        ErrorKind.REFUSED,
        url,
        Text(
            en=f"not read: the address points into a private or internal network ({detail})",
            id=f"tidak dibaca: alamatnya menuju jaringan privat atau internal ({detail})",
        ),
    )


def unsupported(url: str) -> PageError:
    return PageError(
        ErrorKind.UNSUPPORTED,
        url,
        Text(
            en="no Statuspage, incident.io or RSS/Atom status page found at this address",
            id=(
                "tidak ditemukan halaman status Statuspage, incident.io, atau RSS/Atom"
                " di alamat ini"
            ),
        ),
    )
