"""The ingest path: identity, rate limits and dedupe in memory, then one durable write.

Everything before the write is in-process, decided for all the reports of one turn of
the event loop at once (or, with Redis, in one round trip shared by the reports that
arrive together), so a surge of reports costs little more than the group-commit insert
itself. The caller is answered only after the write committed; a
full write queue is refused at once (`Overloaded` → 503 + Retry-After) rather than
queued without bound.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import NamedTuple
from zoneinfo import ZoneInfo

from redis.asyncio import Redis

from pantau.clock import Clock
from pantau.crowd.gates import WINDOW_SECONDS, LocalCrowd, MemoryGate
from pantau.crowd.identity import Hasher, Network, Origin, Proxies, Reporter, tokens
from pantau.crowd.limiter import ReportLimiter
from pantau.crowd.region import Regions
from pantau.crowd.shared import SharedCrowd
from pantau.crowd.validate import ReportIn, normalise_text
from pantau.settings import Settings
from pantau.store.report_insert import NewReport
from pantau.store.reports import ReportsStoreMixin
from pantau.store.writer import Overloaded

_CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


class RateLimited(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many reports from your network; try again in {retry_after} s")
        self.retry_after = retry_after


class NoAddress(Exception):
    """The client's address cannot be told, so it cannot be rate-limited."""


def clean_client_id(value: str | None) -> str | None:
    """A client id we accept: 8–64 URL-safe characters; anything else is ignored."""
    return value if value and _CLIENT_ID.fullmatch(value) else None


def report_id(seconds: float) -> str:
    """32 hex digits: the time (Unix seconds) in milliseconds, then 80 random bits (as
    UUIDv7 does).

    Ids that grow with time are appended at the right edge of the primary key's
    B-tree; random ones dirtied a different page per report, and every dirty page
    is written to the WAL at each group commit. Spelt as the hex of 16 bytes: 0.7 us
    against 1.0 us for formatting the time and the random part apart.
    """
    return ((int(seconds * 1000) & 0xFFFF_FFFF_FFFF).to_bytes(6) + tokens.take(10)).hex()


class _Waiting(NamedTuple):
    """A report taken in this turn of the event loop, to be decided with the others."""

    service: str
    report: ReportIn
    client_id: str | None
    peer: str | None
    forwarded_for: str | None
    headers: Mapping[bytes, bytes] | None
    future: asyncio.Future[str]


class Ingest:
    def __init__(
        self,
        store: ReportsStoreMixin,
        clock: Clock,
        *,
        secret: bytes,
        trusted_proxies: Sequence[Network],
        crowd: LocalCrowd | SharedCrowd,
        regions: Regions | None = None,
        zone: tzinfo = UTC,
    ) -> None:
        self._store = store
        self._clock = clock
        store.stamp_reports(clock.now)
        self._hasher = Hasher(secret, zone)
        self._proxies = Proxies(trusted_proxies)
        self._crowd = crowd
        self._regions = regions
        self._waiting: list[_Waiting] = []
        # Reports decided and counted as a new voice, not yet stored: a caller whose
        # report then fails gives the voice back (`submit`).
        self._counting: dict[asyncio.Future[str], tuple[str, Reporter]] = {}

    @classmethod
    def from_settings(
        cls, settings: Settings, store: ReportsStoreMixin, clock: Clock, redis: Redis | None
    ) -> Ingest:
        secret = settings.secret_key.get_secret_value().encode()
        address, network = settings.report_limit_address, settings.report_limit_network
        voices = settings.crowd_network_voices
        crowd = (
            LocalCrowd(ReportLimiter(address, network), MemoryGate(voices))
            if redis is None
            else SharedCrowd(redis, address, network, voices, secret)
        )
        return cls(
            store,
            clock,
            secret=secret,
            trusted_proxies=settings.trusted_proxies,
            crowd=crowd,
            regions=Regions.from_settings(settings),
            zone=ZoneInfo(settings.crowd_timezone),
        )

    def trusts(self, peer: str | None) -> bool:
        """Whether `peer` is a trusted proxy, whose forwarding headers are believed."""
        return peer is not None and self._proxies.trusts(peer)

    async def recall(self) -> None:
        """After a start, take in the voices of the gate's last window from the store, so
        that a restart does not count its reporters again (in memory only: Redis keeps
        them)."""
        if isinstance(self._crowd, LocalCrowd):
            since = self._clock.now() - timedelta(seconds=WINDOW_SECONDS)
            self._crowd.recall(await self._store.voices_since(since))

    def close(self) -> None:
        """Let go of the GeoIP database (a memory map), if one is open."""
        if self._regions is not None:
            self._regions.close()

    async def submit(
        self,
        service: str,
        report: ReportIn,
        *,
        client_id: str | None,
        peer: str | None,
        forwarded_for: str | None,
        headers: Mapping[bytes, bytes] | None = None,
    ) -> str:
        """Store one report; returns its id once durable.

        Raises `NoAddress`, `RateLimited`, `SharedStateDown` (Redis), or the store's
        `Overloaded` (always before the reporter is heard: the retry asked for must
        count) and its failures.
        """
        crowd = self._crowd
        if isinstance(crowd, LocalCrowd):
            # Decided with the others that come in before the decision runs (`_decide`).
            loop = asyncio.get_running_loop()
            future: asyncio.Future[str] = loop.create_future()
            if not self._waiting:
                loop.call_soon(self._decide, crowd)
            self._waiting.append(
                _Waiting(service, report, client_id, peer, forwarded_for, headers, future)
            )
            try:
                return await future
            except Exception:
                # Not stored (the store failed, say): the retry its refusal asks for must
                # count, so a voice counted for it is given back.
                if (voice := self._counting.pop(future, None)) is not None:
                    crowd.give_back(*voice)
                raise
            finally:
                self._counting.pop(future, None)
        store, hasher = self._store, self._hasher
        now = self._clock.now()
        seconds = now.timestamp()
        where, client_id, who = self._identify(
            peer, forwarded_for, client_id, hasher.day_of(now, seconds)
        )
        # Redis is awaited, and the queue could fill meanwhile: a place is held in it
        # until the report takes it or is refused.
        store.reserve_report()
        holding = True
        try:
            wait, counted, heard = await crowd.decide(service, where, who, seconds)
            if wait is None:
                if heard is not None:
                    who = hasher.as_heard(who, heard, client_id, where)
                try:
                    row = self._row(service, report, now, seconds, who, counted, peer,
                                    where, headers)
                    holding = False
                    return await store.add_report(row, reserved=True)
                except Exception:
                    if counted:  # as in memory: the retry must count
                        await crowd.give_back(service, who, seconds)
                    raise
        finally:
            if holding:
                store.release_report()
        raise RateLimited(wait)

    def _decide(self, crowd: LocalCrowd) -> None:
        """Decide and queue for the write every report taken since this call was
        scheduled, each caller answered on its own (its id once stored, or its refusal).

        One pass over the reports that came in together, not one per request between
        uvicorn's own work and the socket calls: the loop's CPU per report fell from 63.5
        to 51-53 us in-process (the fast path driven without HTTP); in bench/ingest.py
        the gain was within the machine's noise. In memory nothing waits, so the queue
        cannot fill between the look and the write.
        """
        waiting, self._waiting = self._waiting, []
        store, hasher = self._store, self._hasher
        try:
            # One reading of the clock for all of them (limits, dedupe windows, the
            # hashes' day; the stored time is their commit's): each costs more than a
            # microsecond.
            now = self._clock.now()
            seconds = now.timestamp()
            day = hasher.day_of(now, seconds)
            recalling = seconds < crowd.recalled_until
        except Exception as exc:  # no caller may be left waiting
            for taken in waiting:
                if not taken.future.done():
                    taken.future.set_exception(exc)
            return
        for taken in waiting:
            future = taken.future
            if future.done():  # its caller went away
                continue
            try:
                where, client_id, who = self._identify(
                    taken.peer, taken.forwarded_for, taken.client_id, day
                )
                # A restart's first half hour after midnight: its recalled voices from
                # before midnight are stored under the day before's hashes.
                day_before = (
                    hasher.day_before(seconds, WINDOW_SECONDS, client_id, where)
                    if recalling else None
                )
                wait, counted, heard = crowd.decide(
                    taken.service, where, who, seconds, day_before
                )
                if wait is not None:
                    raise RateLimited(wait)
                if counted:
                    self._counting[future] = (taken.service, who)
                if heard is not None:
                    who = hasher.as_heard(who, heard, client_id, where)
                row = self._row(taken.service, taken.report, now, seconds, who, counted,
                                taken.peer, where, taken.headers)
                store.queue_report(row, future)
            except Exception as exc:  # one report's failure is its caller's alone
                future.set_exception(exc)

    def _identify(
        self, peer: str | None, forwarded_for: str | None, client_id: str | None, day: date
    ) -> tuple[Origin, str | None, Reporter]:
        """Where a report comes from, its client id as accepted, and who it is on `day`.
        Raises `NoAddress`, or `Overloaded` (before the reporter is heard: the retry asked
        for must count)."""
        where = self._proxies.origin(peer, forwarded_for)
        if where is None:
            raise NoAddress("cannot tell the client's address")
        if self._store.reports_full():
            raise Overloaded()
        client_id = clean_client_id(client_id)
        return where, client_id, self._hasher.reporter(day, client_id, where)

    def _row(
        self,
        service: str,
        report: ReportIn,
        now: datetime,
        seconds: float,
        who: Reporter,
        counted: bool,
        peer: str | None,
        where: Origin,
        headers: Mapping[bytes, bytes] | None,
    ) -> NewReport:
        region = report.region
        if region is None and self._regions is not None:
            region = self._regions.region(peer, where, headers)
        text = report.text
        return NewReport(
            report_id(seconds),
            service,
            now,
            who.reporter,
            who.network,
            report.category.value,
            region,
            text,
            normalise_text(text),
            counted,
        )
