"""One voice per reporter per 30 minutes; a few voices per network; rate limits."""

from __future__ import annotations

import math
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
    # A clock that steps back a little counts as the latest clock: r9 at 1040 is seen
    # at 1100.
    assert not gate.admit("chatgpt", "r1", "n1", 1050.0)
    assert gate.admit("chatgpt", "r9", "n9", 1040.0)
    assert not gate.admit("chatgpt", "r9", "n9", 1140.0)
    assert not gate.admit("chatgpt", "r9", "n9", 1045.0)  # late, and a repeat all the same
    assert gate.admit("chatgpt", "r9", "n9", 1200.0)  # a window past 1100
    assert gate.admit("chatgpt", "r8", "n9", 1200.0)
    assert not gate.admit("chatgpt", "r7", "n9", 1150.0)  # n9's two voices since 1200
    # Further back than a window (a clock corrected): gone by, as Redis does, and what
    # was heard forgotten; held at 1200, r9 would have stayed heard until 1300.
    assert gate.admit("chatgpt", "r9", "n9", 500.0)
    assert not gate.admit("chatgpt", "r9", "n9", 550.0)
    assert gate.admit("chatgpt", "r9", "n9", 600.0)  # a window past 500


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


def test_a_report_one_budget_refuses_takes_nothing_from_the_others() -> None:
    # 100,000 addresses of one /48 within a minute: the network's budget refuses all but
    # the first ten, and the addresses' windows must not keep a key for each of them.
    limiter = ReportLimiter("6/minute;30/hour", "10/minute")
    refused = sum(
        limiter.check(origin(ip_address(f"2001:db8:1:{i >> 16:x}:{i & 0xFFFF:x}::1")), 5.0)
        is not None
        for i in range(100_000)
    )
    assert refused == 100_000 - 10
    kept = [sum(map(len, window.current)) for window in limiter._by_address]
    assert kept == [10, 10]
    # An address refused by its own budget takes nothing from its network's.
    again = origin(ip_address("203.0.113.9"))
    for _ in range(6):
        assert limiter.check(again, 6.0) is None
    assert all(limiter.check(again, 7.0) is not None for _ in range(20))
    neighbour = origin(ip_address("203.0.113.10"))
    assert [limiter.check(neighbour, 8.0) for _ in range(4)] == [None, None, None, None]


class _PlainGate:
    """The rules as plainly as they can be written, each call looking at every entry:
    the reference."""

    def __init__(self, voices: int, window: float) -> None:
        self.voices, self.window = voices, window
        self.latest = -math.inf
        self.reporters: dict[tuple[str, str], float] = {}
        self.networks: dict[tuple[str, str], tuple[float, int]] = {}

    def admit(self, service: str, reporter: str, network: str, now: float) -> bool:
        # The latest clock; a clock gone back further than a window is gone by, with
        # everything heard forgotten.
        if now < self.latest - self.window:
            self.latest = now
            self.reporters, self.networks = {}, {}
        now = self.latest = max(self.latest, now)

        def held(at: float) -> bool:
            return self.latest - at < self.window

        if (at := self.reporters.get((service, reporter))) is not None and held(at):
            return False
        started, used = self.networks.get((service, network), (now, 0))
        if not held(started):
            started, used = now, 0
        if used >= self.voices:
            return False
        self.reporters[service, reporter] = now
        self.networks[service, network] = (started, used + 1)
        return True

    def give_back(self, service: str, reporter: str, network: str) -> None:
        """The voice just admitted for `reporter`, whose report was not stored."""
        del self.reporters[service, reporter]
        started, used = self.networks.pop((service, network))
        if used > 1:
            self.networks[service, network] = (started, used - 1)


@pytest.mark.parametrize("expired_per_call", [1, 2, 16])
@pytest.mark.parametrize("seed", range(6))
def test_memory_gate_answers_as_the_plain_rules(seed: int, expired_per_call: int) -> None:
    rng = random.Random(seed)
    for voices, window in ((1, 10.0), (3, 100.0), (0, 50.0)):
        reference = _PlainGate(voices, window)
        gate = MemoryGate(voices, window, expired_per_call)
        now = 0.0
        for _ in range(3000):
            step = rng.random()
            if step < 0.6:
                now += rng.uniform(0, window / 5)
            elif step < 0.7:
                now += rng.uniform(0, 3 * window)
            elif step < 0.8:
                now -= rng.uniform(0, window)  # the clock steps back
            elif step < 0.85:
                now = float(round(now))
            args = (rng.choice("abc"), f"r{rng.randrange(30)}", f"n{rng.randrange(8)}", now)
            admitted = gate.admit(*args)
            assert admitted == reference.admit(*args), args
            if admitted and rng.random() < 0.1:  # its report was not stored after all
                gate.give_back(*args[:3])
                reference.give_back(*args[:3])


def test_memory_gate_forgets_a_few_entries_per_call_after_a_quiet_spell() -> None:
    gate = MemoryGate(voices=3, window=100.0, expired_per_call=16)
    for i in range(10_000):
        assert gate.admit("chatgpt", f"r{i}", f"n{i}", i / 1000)
    # All 10,000 are a window old at once: the call forgets 16 of each, not all.
    assert gate.admit("chatgpt", "r0", "n0", 200.0)
    assert len(gate._seen_at) == 10_000 - 16 + 1
    assert len(gate._since_at) == 10_000 - 16 + 1
    # Those still held are gone all the same: each counts again.
    assert all(gate.admit("chatgpt", f"r{i}", "n0", 200.0) for i in (5000, 9999))
    assert not gate.admit("chatgpt", "r9", "n0", 200.0)  # n0's three voices, from 200
    for i in range(700):
        gate.admit("gmail", f"r{i}", f"n{i}", 201.0)
    assert len(gate._seen_at) == 700 + 3  # the outage's entries, all forgotten now
