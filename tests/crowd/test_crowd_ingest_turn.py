"""In one process, the reports taken in one turn of the event loop are decided together
(`Ingest._decide`), and each caller still gets its own answer: its id once stored, or
its own refusal."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest

from pantau.clock import FrozenClock
from pantau.crowd.gates import LocalCrowd, MemoryGate
from pantau.crowd.ingest import Ingest, NoAddress, RateLimited
from pantau.crowd.limiter import ReportLimiter
from pantau.crowd.validate import Category, ReportIn
from pantau.store import Store
from pantau.store.writer import Overloaded
from tests.crowd.crowd_fixtures import T0, crowd_store

__all__ = ["crowd_store"]


class _CountingClock(FrozenClock):
    """A frozen clock that counts its readings, or fails them when told to."""

    def __init__(self, fails: bool = False) -> None:
        super().__init__(T0)
        self.readings = 0
        self.fails = fails

    def now(self) -> datetime:
        self.readings += 1
        if self.fails:
            raise RuntimeError("the clock broke")
        return super().now()


class _RegionsFailingFor:
    """Regions whose look-up fails for one peer: a failure while building one report's row."""

    def __init__(self, peer: str) -> None:
        self._peer = peer

    def region(self, peer: str | None, where: object, headers: object) -> str | None:
        if peer == self._peer:
            raise RuntimeError("the GeoIP database broke")
        return None

    def close(self) -> None:
        pass


def _ingest(store: Store, per_address: str = "6/minute;30/hour", clock: FrozenClock | None = None,
            regions: object = None) -> Ingest:
    crowd = LocalCrowd(ReportLimiter(per_address, "1000/minute"), MemoryGate(3))
    return Ingest(store, clock or FrozenClock(T0), secret=b"turn", trusted_proxies=[],
                  crowd=crowd, regions=regions)  # type: ignore[arg-type]


async def _send(ingest: Ingest, client_id: str, peer: str | None) -> str:
    return await ingest.submit("chatgpt", ReportIn(Category.APP), client_id=client_id, peer=peer,
                               forwarded_for=None)


async def test_one_turns_reports_are_each_answered_on_their_own(crowd_store: Store) -> None:
    # Eight at once from one address whose limit is six a minute, and one whose address
    # cannot be told: the refusals go to their own callers, the rest are stored.
    clock = _CountingClock()
    ingest = _ingest(crowd_store, clock=clock)
    sent = [_send(ingest, f"client-{i:03d}", "198.51.100.7") for i in range(8)]
    answers = await asyncio.gather(*sent, _send(ingest, "client-nowhere", None),
                                   return_exceptions=True)
    ids = [a for a in answers if isinstance(a, str)]
    assert len(ids) == 6
    assert [type(a) for a in answers[6:]] == [RateLimited, RateLimited, NoAddress]
    # Decided together, at one reading of the clock; one more stamped their commit.
    assert clock.readings == 2
    assert await crowd_store.report_count() == 6
    # One network's three voices; the other three reports are stored but not counted.
    assert len(await crowd_store.voices_since(T0 - timedelta(minutes=1))) == 3


async def test_a_full_queue_refuses_before_the_gate_hears(crowd_store: Store) -> None:
    # A queue of one: the second report of the turn is refused, and not heard, so the
    # retry the 503 asks for is a voice.
    ingest = _ingest(crowd_store)
    crowd_store.MAX_PENDING_REPORTS = 1
    first, second = await asyncio.gather(_send(ingest, "client-001", "198.51.1.7"),
                                         _send(ingest, "client-002", "198.51.2.7"),
                                         return_exceptions=True)
    assert isinstance(first, str) and isinstance(second, Overloaded)
    await _send(ingest, "client-002", "198.51.2.7")
    assert len(await crowd_store.voices_since(T0 - timedelta(minutes=1))) == 2


async def test_a_caller_gone_before_its_turn_is_not_stored(crowd_store: Store) -> None:
    ingest = _ingest(crowd_store)
    gone = asyncio.create_task(_send(ingest, "client-001", "198.51.1.7"))
    kept = asyncio.create_task(_send(ingest, "client-002", "198.51.2.7"))
    await asyncio.sleep(0)  # both are waiting for the turn's decision
    gone.cancel()
    assert isinstance(await kept, str)
    with pytest.raises(asyncio.CancelledError):
        await gone
    assert await crowd_store.report_count() == 1


async def test_one_reports_failure_is_its_callers_alone(crowd_store: Store) -> None:
    ingest = _ingest(crowd_store, regions=_RegionsFailingFor("198.51.2.7"))
    answers = await asyncio.gather(
        *(_send(ingest, f"client-{i:03d}", f"198.51.{i}.7") for i in range(1, 4)),
        return_exceptions=True)
    assert isinstance(answers[0], str) and isinstance(answers[2], str)
    assert isinstance(answers[1], RuntimeError)
    assert await crowd_store.report_count() == 2


async def test_a_failure_before_any_report_is_decided_reaches_every_caller(
    crowd_store: Store,
) -> None:
    ingest = _ingest(crowd_store, clock=_CountingClock(fails=True))
    answers = await asyncio.wait_for(asyncio.gather(
        *(_send(ingest, f"client-{i:03d}", f"198.51.{i}.7") for i in range(1, 4)),
        return_exceptions=True), timeout=10)
    assert [str(a) for a in answers] == ["the clock broke"] * 3
    assert await crowd_store.report_count() == 0
