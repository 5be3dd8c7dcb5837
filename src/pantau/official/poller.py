"""Polls one status page: conditional requests, fallbacks, staleness, backoff.

A page whose documents all answer 304 Not Modified costs no parsing at all: the
previous snapshot is reused with a new fetch time. A page that fails keeps its last
known state, marked stale and carrying the error, and is retried with backoff.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import datetime

import httpx

from pantau.clock import Clock
from pantau.official.errors import ErrorKind, PageError
from pantau.official.fetch import Validators, fetch
from pantau.official.model import PageKind, PagePart, PageSnapshot, combine
from pantau.official.sources import Adapter, Variant
from pantau.signals import Text


@dataclass(frozen=True, slots=True)
class _Cached:
    validators: Validators
    part: PagePart


@dataclass(frozen=True, slots=True)
class PollResult:
    snapshot: PageSnapshot | None
    """The page as now known (possibly stale); None if it never answered."""
    error: PageError | None = None
    not_modified: bool = False
    parsed: int = 0
    """How many documents were parsed in this poll (0 when everything was 304)."""


def next_delay(
    interval: float, failures: int, rng: random.Random, *, max_backoff: float = 1800.0
) -> float:
    """Seconds until the next poll: the interval ±10 % so pages are not polled in
    lockstep, doubled per consecutive failure up to `max_backoff`."""
    base = interval if failures == 0 else min(max_backoff, interval * 2.0 ** min(failures, 16))
    return base * rng.uniform(0.9, 1.1)


# Errors that say "this variant is not how this page is served": worth trying the next
# one. A page that is down or slow will not answer another URL on the same host better.
_TRY_NEXT = frozenset({ErrorKind.HTTP, ErrorKind.MALFORMED, ErrorKind.TRUNCATED})


@dataclass
class PagePoller:
    url: str
    adapter: Adapter
    client: httpx.AsyncClient
    clock: Clock
    timeout: float = 10.0
    snapshot: PageSnapshot | None = None
    last_error: PageError | None = None
    last_success_at: datetime | None = None
    failures: int = 0
    _cache: dict[str, _Cached] = field(default_factory=dict)
    _variant: int = 0

    @property
    def kind(self) -> PageKind:
        return self.adapter.kind

    def forget_validators(self) -> None:
        """Make the next poll fetch and parse every document afresh (unconditionally)."""
        self._cache.clear()

    async def poll(self) -> PollResult:
        variants = self.adapter.variants(self.url)
        # Start with the variant that worked last time; fall back through the others.
        order = [self._variant, *(i for i in range(len(variants)) if i != self._variant)]
        first_error: PageError | None = None
        for index in order:
            try:
                result = await self._poll_variant(variants[index])
            except PageError as exc:
                first_error = first_error or exc
                if exc.kind not in _TRY_NEXT:
                    break
                continue
            self._variant = index
            self.failures = 0
            self.last_error = None
            self.last_success_at = result.snapshot.fetched_at if result.snapshot else None
            self.snapshot = result.snapshot
            return result
        assert first_error is not None
        self.failures += 1
        self.last_error = first_error
        if self.snapshot is not None:
            self.snapshot = replace(self.snapshot, stale=True, error=first_error.message)
        return PollResult(self.snapshot, error=first_error)

    async def _poll_variant(self, variant: Variant) -> PollResult:
        parts: list[PagePart] = []
        parsed = 0
        for doc in variant.documents:
            cached = self._cache.get(doc.url)
            try:
                got = await fetch(
                    self.client,
                    doc.url,
                    cached.validators if cached else None,
                    seconds=self.timeout,
                )
                if got.body is None:
                    if cached is None:  # a 304 to an unconditional request: nothing to reuse
                        raise PageError(ErrorKind.HTTP, doc.url, _UNEXPECTED_304, status=304)
                    parts.append(cached.part)
                    continue
                part = doc.parse(doc.url, got.body)
            except PageError:
                if doc.required:
                    raise
                self._cache.pop(doc.url, None)
                continue
            parsed += 1
            self._cache[doc.url] = _Cached(got.validators, part)
            parts.append(part)
        now = self.clock.now()
        if parsed == 0 and self.snapshot is not None and self._variant_is(variant):
            return PollResult(
                replace(self.snapshot, fetched_at=now, stale=False, error=None),
                not_modified=True,
            )
        return PollResult(combine(self.kind, self.url, now, parts), parsed=parsed)

    def _variant_is(self, variant: Variant) -> bool:
        return self.adapter.variants(self.url)[self._variant].name == variant.name


_UNEXPECTED_304 = Text(
    en="the status page answered 304 Not Modified to a first request",
    id="halaman status menjawab 304 Not Modified untuk permintaan pertama",
)
