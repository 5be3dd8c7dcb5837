"""One voice per reporter per 30 minutes; a few voices per network; rate limits."""

from __future__ import annotations

import random
from ipaddress import ip_address

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pantau.crowd import limiter as limiter_module
from pantau.crowd.gates import MemoryGate
from pantau.crowd.identity import origin
from pantau.crowd.limiter import SHARDS, ReportLimiter, _Window


async def test_memory_gate_dedupes_for_thirty_minutes() -> None:
    gate = MemoryGate(voices=3)
    assert gate.admit("chatgpt", "r1", "n1", 0.0)
    assert not gate.admit("chatgpt", "r1", "n1", 0.0)
    assert gate.admit("gmail", "r1", "n1", 0.0)  # another service counts separately
    assert not gate.admit("chatgpt", "r1", "n1", 29 * 60)
    assert gate.admit("chatgpt", "r1", "n1", 30 * 60 + 1)


def test_memory_gate_tells_when_a_repeated_voice_was_heard() -> None:
    gate = MemoryGate(voices=1, window=100.0)
    assert gate.heard("chatgpt", "r1") is None
    assert gate.admit("chatgpt", "r1", "n1", 10.0)
    assert not gate.admit("chatgpt", "r1", "n1", 60.0)
    assert gate.heard("chatgpt", "r1") == 10.0
    assert gate.heard("gmail", "r1") is None
    # A reporter refused a voice by its network's budget has none to repeat.
    assert not gate.admit("chatgpt", "r2", "n1", 60.0)
    assert gate.heard("chatgpt", "r2") is None
    assert gate.admit("chatgpt", "r3", "n3", 110.0)  # the clock moves: r1's voice is over
    assert gate.heard("chatgpt", "r1") is None


async def test_memory_gate_caps_voices_per_network() -> None:
    gate = MemoryGate(voices=3)
    admitted = [gate.admit("chatgpt", f"r{i}", "n1", 0.0) for i in range(10)]
    assert admitted == [True] * 3 + [False] * 7
    assert gate.admit("chatgpt", "r99", "n2", 0.0)


def test_memory_gate_admits_without_awaiting_and_goes_by_the_latest_clock() -> None:
    gate = MemoryGate(voices=2, window=100.0)
    assert gate.admit("chatgpt", "r1", "n1", 0.0)
    assert gate.admit("chatgpt", "r2", "n1", 50.0)
    assert not gate.admit("chatgpt", "r3", "n1", 99.0)  # n1's budget: 2 per window
    # r1 and n1's window (both from 0) are over; r2 (from 50) still counts once.
    assert gate.admit("chatgpt", "r3", "n1", 100.0)
    assert not gate.admit("chatgpt", "r2", "n1", 149.0)
    assert gate.admit("chatgpt", "r2", "n2", 150.0)  # r2's sighting expired at 150
    # Everything expired, both tables empty: the next entries are the fronts again.
    assert gate.admit("chatgpt", "r1", "n1", 1000.0)
    assert not gate.admit("chatgpt", "r1", "n1", 1099.0)
    assert gate.admit("chatgpt", "r1", "n1", 1100.0)
    # A clock that steps back counts as the latest clock: r9 at 1040 is seen at 1100.
    assert not gate.admit("chatgpt", "r1", "n1", 1050.0)
    assert gate.admit("chatgpt", "r9", "n9", 1040.0)
    assert not gate.admit("chatgpt", "r9", "n9", 1140.0)
    assert not gate.admit("chatgpt", "r9", "n9", 1000.0)  # late, and a repeat all the same
    assert gate.admit("chatgpt", "r9", "n9", 1200.0)  # a window past 1100
    # Far behind: a repeat, and a network's voices capped, as at the latest clock.
    assert not gate.admit("chatgpt", "r9", "n9", 500.0)
    assert gate.admit("chatgpt", "r8", "n9", 500.0)
    assert not gate.admit("chatgpt", "r7", "n9", 500.0)  # n9's two voices since 1200


async def test_limiter_per_address_and_per_network() -> None:
    limiter = ReportLimiter("3/minute", "5/minute")
    a = origin(ip_address("203.0.113.1"))
    assert [limiter.check(a, 0.0) for _ in range(3)] == [None] * 3
    # Until a fourth is allowed: at 80 s, a third of this minute's three still weighs.
    assert limiter.check(a, 0.0) == 80
    # Other addresses in the same /24 share the network's budget of 5.
    results = [limiter.check(origin(ip_address(f"203.0.113.{i}")), 0.0) for i in range(2, 6)]
    assert results[:1] == [None] and all(r is not None for r in results[2:])
    assert limiter.check(origin(ip_address("198.51.100.1")), 0.0) is None


def test_limiter_window_weighs_the_window_before_and_rolls() -> None:
    limiter = ReportLimiter("4/minute", "1000/minute")
    a = origin(ip_address("203.0.113.1"))
    assert [limiter.check(a, 50.0) for _ in range(4)] == [None] * 4
    assert limiter.check(a, 30.0) == 45  # the window [0, 60) is full, until 75 s:
    # a quarter of the next minute has passed there: 4 x 0.75 = 3 still weigh, one more.
    assert limiter.check(a, 75.0) is None
    assert limiter.check(a, 75.0) == 15  # 4 x 0.5 + 1 at 90 s
    # At 105 s: 4 x 0.25 + 1 = 2 weigh, two more.
    assert [limiter.check(a, 105.0) for _ in range(3)][:2] == [None, None]
    # Two minutes or more without a hit: nothing weighs any more.
    assert [limiter.check(a, 300.0) for _ in range(4)] == [None] * 4
    assert limiter.check(a, 300.0) is not None


def test_limiter_clock_stepping_back_a_little_gives_no_budget_back() -> None:
    limiter = ReportLimiter("2/minute", "1000/minute")
    a = origin(ip_address("203.0.113.1"))
    assert [limiter.check(a, 130.0) for _ in range(2)] == [None, None]
    # Back within the window, and back into the window before: still the same budget.
    assert limiter.check(a, 121.0) is not None
    assert limiter.check(a, 119.0) == 90  # counted at the current window's start
    assert limiter.check(origin(ip_address("203.0.113.2")), 61.0) is None
    assert limiter.check(a, 180.0) is not None  # 2 x 1.0 from [120, 180) weigh
    assert limiter.check(a, 210.0) is None


def test_limiter_clock_stepping_back_far_starts_afresh() -> None:
    # The clock jumped an hour ahead and was corrected: the windows go on from the
    # corrected time, not frozen at the hour ahead (6 for the whole hour).
    limiter = ReportLimiter("6/minute", "1000/minute")
    a = origin(ip_address("203.0.113.1"))
    assert [limiter.check(a, 3600.0 + 30) for _ in range(7)][-2:] == [None, 40]
    allowed = [sum(limiter.check(a, m * 60.0 + 30) is None for _ in range(6))
               for m in range(10)]
    # At each minute's middle half of the minute before still weighs.
    assert allowed == [6, 3, 4, 4, 4, 4, 4, 4, 4, 4]


def test_limiter_frees_large_ended_windows_a_few_keys_at_a_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(limiter_module, "_FREED_AT_ONCE", 100)
    limiter = ReportLimiter("6/minute", "1000/minute")
    for i in range(1000):
        assert limiter.check(origin(ip_address(f"10.0.{i >> 8}.{i & 255}")), 0.0) is None
    # Two minutes on, both windows of the address and of the network are over: the
    # addresses' table (1000) is handed over to be freed, up to 64 entries at each check
    # (one dict at a time); the networks' (4) is freed at once.
    b = origin(ip_address("198.51.100.1"))
    assert limiter.check(b, 120.0) is None
    drained = limiter._drained
    assert sum(map(len, drained)) == 1000
    left = [1000]
    while drained:
        assert limiter.check(origin(ip_address(f"198.51.{len(left)}.1")), 121.0) is None
        left.append(sum(map(len, drained)))
        assert 0 < left[-2] - left[-1] <= 64
    assert len(left) - 1 <= limiter_module.SHARDS + 1000 // 64


class _TupleWindow:
    """The limiter's window before it was two dicts (one dict of (window, count, count
    before) per key, rebuilt every two windows): the reference for which hits it allows."""

    def __init__(self, amount: int, seconds: float) -> None:
        self.amount, self.seconds = amount, seconds
        self.counts: dict[str, tuple[int, int, int]] = {}
        self.swept = 0

    def hit(self, key: str, now: float) -> bool:
        index = int(now // self.seconds)
        if index > self.swept + 1:
            self.counts = {k: v for k, v in self.counts.items() if v[0] >= index - 1}
            self.swept = index
        at, current, previous = self.counts.get(key, (index, 0, 0))
        if at != index:
            current, previous = (0, current) if at == index - 1 else (0, 0)
        elapsed = now / self.seconds - index
        if previous * (1.0 - elapsed) + current + 1 > self.amount:
            self.counts[key] = (index, current, previous)
            return False
        self.counts[key] = (index, current + 1, previous)
        return True


@pytest.mark.parametrize("seed", range(6))
def test_limiter_window_answers_as_the_tuples_did(seed: int) -> None:
    rng = random.Random(seed)
    for amount, seconds in ((0, 60), (1, 7), (3, 60), (6, 60), (30, 3600)):
        reference, window = _TupleWindow(amount, seconds), _Window(amount, seconds, [])
        keys = [f"k{i}" for i in range(rng.choice((1, 4, 20)))]
        now = rng.uniform(0, 10 * seconds)
        for _ in range(2000):
            step = rng.random()
            if step < 0.5:
                now += rng.uniform(0, seconds / 10)
            elif step < 0.6:
                now = (now // seconds + 1) * seconds  # exactly on the next edge
            elif step < 0.7:
                now += rng.uniform(1, 5) * seconds  # gaps of several windows
            elif step < 0.85:
                now += rng.uniform(0, seconds)
            elif step < 0.95:
                now = rng.uniform(now // seconds * seconds, now)  # back, within the window
            key = rng.choice(keys)
            shard = hash(key) % SHARDS
            wait = window.wait(key, now, shard)
            if wait is None:
                window.count(key, shard)
            assert (wait is None) == reference.hit(key, now), (amount, seconds, now)


@settings(max_examples=300, deadline=None)
@given(amount=st.integers(1, 30), hits=st.lists(st.floats(0, 1), max_size=80),
       last=st.floats(0, 1))
def test_a_limiters_wait_is_until_the_next_hit_is_allowed(
    amount: int, hits: list[float], last: float,
) -> None:
    # Hits over two windows (where each fell, as a fraction of the two), then hits in the
    # window after until one is refused: it is allowed after the wait given, and not a
    # second before.
    seconds = 60
    window = _Window(amount, seconds, [])
    for now in sorted(hit * 2 * seconds for hit in hits):
        if window.wait("k", now, 0) is None:
            window.count("k", 0)
    now = (2 + last) * seconds
    while (wait := window.wait("k", now, 0)) is None:
        window.count("k", 0)
    assert wait > 0
    if wait > 1:
        assert window.wait("k", now + wait - 1, 0) is not None
    assert window.wait("k", now + wait + 1e-6, 0) is None
