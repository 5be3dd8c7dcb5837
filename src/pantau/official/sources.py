"""The one interface every adapter implements: which documents make up a page.

An adapter is pure: it names the documents to fetch (in `Variant`s, tried in order
until one works) and how to parse each into a `PagePart`. Fetching, conditional
requests and fallbacks live in the poller, so a new format is only a parser.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from pantau.official.model import PageKind, PagePart

Parser = Callable[[str, bytes], PagePart]
"""(document url, body) -> part; raises `PageError` on a document it cannot read."""


@dataclass(frozen=True, slots=True)
class Document:
    url: str
    parse: Parser
    required: bool = True
    """An optional document that fails is skipped; a required one fails the variant."""


@dataclass(frozen=True, slots=True)
class Variant:
    name: str
    documents: tuple[Document, ...]


class Adapter(Protocol):
    @property
    def kind(self) -> PageKind: ...

    def variants(self, page_url: str) -> tuple[Variant, ...]:
        """Ways to read the page, best first."""
        ...
