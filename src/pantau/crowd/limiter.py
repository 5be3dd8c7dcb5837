"""Rate limits per client address and per network.

The limits are written in the `limits` library's syntax ("6/minute;30/hour") and
parsed by it. They are kept as sliding-window counters: a key's hits in the current
window and in the one before, the one before weighted by how much of it still
overlaps. This module keeps them in one process; `shared.SharedCrowd` keeps the same
counters in Redis, for several processes.

Not the library's own memory storage: it sweeps every key every 10 ms (through a
thread hop per key in its asyncio flavour), which at outage scale, with one key per
reporter address, starved the database writer's threads (measured in
bench/ingest.py). No call walks the table: the counts of the current and of the
previous window are two tables (of SHARDS dicts each), and a window that ends is
dropped whole.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from limits import parse_many

from pantau.crowd.identity import Origin

# An ended window's dicts are freed whole when they hold this few entries in all (0.1-0.2
# ms), else `_FREED_PER_CHECK` entries at each check (see `ReportLimiter._free_some`). At
# 65,536 the minute windows of a surge at 900 reports a second (54,000 keys each) were
# freed at once when the minute turned: 5 ms (bench/crowd_memory.py, collector off).
_FREED_AT_ONCE = 8_192
_FREED_PER_CHECK = 64

SHARDS = 64
"""Dicts each table is split in, by the key's hash (here and in `gates.MemoryGate`).

A dict that grows past two thirds full is copied whole into one twice its size, in the
call that adds the key: at 699,050 reporters the limiter's and the gate's tables did so
in the same report, 27 and 69 ms (bench/crowd_memory.py), and each doubling takes twice
as long. Split in 64, each copy is a 64th of that."""


def _tables() -> list[dict[str, int]]:
    return [{} for _ in range(SHARDS)]


@dataclass(slots=True)
class _Window:
    """Sliding-window counter for one limit: each key's hits in the current window and in
    the one before, weighted by how much of the one before still overlaps the last
    `seconds`.

    The two windows are two tables of counts. When the clock enters the next window the
    current table becomes the previous one, and the previous one is handed to `drained`
    whole: no call walks it. It used to be one dict of (window, count, count
    before) tuples, rebuilt without the idle keys every two windows: with a million
    keys, one check took 0.5 s (bench/crowd_memory.py), and the three windows held 325
    bytes per reporter, now 123 (a count is a small int, shared by the interpreter).
    """

    amount: int
    seconds: int
    """Whole seconds (limits' expiry), so a window's edges are exact as floats."""
    drained: list[dict[str, int]]
    """Dicts of ended windows' tables, to be freed a few entries at a time (shared, the
    limiter's)."""
    index: int = -(1 << 62)
    """The current window: `now // seconds`, the latest seen."""
    end: float = -math.inf
    """Where the current window ends and the next begins."""
    current: list[dict[str, int]] = field(default_factory=_tables)
    previous: list[dict[str, int]] = field(default_factory=_tables)

    def wait(self, key: str, now: float, shard: int) -> float | None:
        """None if one more hit is allowed at `now`, else seconds until it would be;
        nothing is counted (`count` does). `shard`: the key's dict, `hash(key) % SHARDS`
        (the caller's, to hash it once for all its windows).

        A clock that steps back into the window before counts in the current window, as at
        its start: a small step back gives no budget back (the tuples' table reset each
        key touched since). Within a window a step back weighs as it always did. A step
        back further than that starts afresh at the new time, as the Redis windows do
        (keyed by the time given): kept in the window from before the step, every key
        would have had one window's budget for as long as the step, an hour's worth of
        "6/minute" for a clock corrected an hour back."""
        if now >= self.end or now < self.end - 2 * self.seconds:
            self._roll(now)
        count = self.current[shard].get(key, 0)
        before = self.previous[shard].get(key)
        if before is None:
            # No hits in the window before (at outage scale, most reporters): the
            # estimate is the current count, and the time within the window is not
            # needed to allow it.
            if count < self.amount:
                return None
            before = 0
        elapsed = now / self.seconds - self.index
        if elapsed < 0.0:
            elapsed = 0.0
        if before * (1.0 - elapsed) + count + 1 > self.amount:
            return self._until_allowed(before, count, elapsed)
        return None

    def _until_allowed(self, before: int, count: int, elapsed: float) -> float:
        """Seconds until one more hit is allowed, if no other comes meanwhile: the window
        before weighs less as time goes on, and once this one ends its own count weighs
        as the one before (the end of this window alone, a Retry-After was too short
        after a busy window and too long after a light one)."""
        room = self.amount - count - 1
        if room >= 0:  # within this window, once the one before weighs little enough
            return (1.0 - room / before - elapsed) * self.seconds
        if self.amount == 0:
            return (1.0 - elapsed) * self.seconds
        return (1.0 - elapsed + max(0.0, 1.0 - (self.amount - 1) / count)) * self.seconds

    def count(self, key: str, shard: int) -> None:
        """Count one hit, in the window `wait` last looked at."""
        current = self.current[shard]
        current[key] = current.get(key, 0) + 1

    def _roll(self, now: float) -> None:
        index = int(now // self.seconds)
        if index == self.index + 1:
            ended = self.previous
            self.previous = self.current
        else:
            # Two windows or more since the last hit, or a clock stepped back further than
            # the window before: nothing is left to weigh.
            ended = self.previous + self.current
            self.previous = _tables()
        self.current = _tables()
        self.index = index
        self.end = (index + 1) * self.seconds
        if sum(map(len, ended)) > _FREED_AT_ONCE:
            self.drained.extend(table for table in ended if table)


def budgets(spec: str) -> list[tuple[int, int]]:
    """(hits, window in whole seconds) of each limit in `spec` ("6/minute;30/hour"): what
    this module and `shared.SharedCrowd` both count against."""
    return [(item.amount, item.get_expiry()) for item in parse_many(spec)]


class ReportLimiter:
    def __init__(self, per_address: str, per_network: str) -> None:
        # The address's windows and the network's, made once.
        self._drained: list[dict[str, int]] = []
        self._by_address = [_Window(n, s, self._drained) for n, s in budgets(per_address)]
        self._by_network = [_Window(n, s, self._drained) for n, s in budgets(per_network)]

    def check(self, where: Origin, now: float) -> int | None:
        """Take one report from the budgets at `now` (seconds); None if allowed, else
        seconds to wait: until every budget allows it.

        Counted only if every budget allows it: a report one budget refuses takes
        nothing from the others. Counted as it was tried, the address windows kept a key
        for every address a /48 refused, and one /48 has more addresses than memory
        (100,000 refused reports left 100,000 keys a window)."""
        if self._drained:
            self._free_some()
        address, network = where
        address_shard = hash(address) % SHARDS
        network_shard = hash(network) % SHARDS
        longest: float | None = None
        for windows, key, shard in ((self._by_address, address, address_shard),
                                    (self._by_network, network, network_shard)):
            for window in windows:
                wait = window.wait(key, now, shard)
                if wait is not None and (longest is None or wait > longest):
                    longest = wait
        if longest is not None:
            # Less a microsecond: 80.00000000000001 s is 80, not 81.
            return max(1, math.ceil(longest - 1e-6))
        for window in self._by_address:
            window.count(address, address_shard)
        for window in self._by_network:
            window.count(network, network_shard)
        return None

    def _free_some(self) -> None:
        """Free a few entries of a large ended window's dict.

        Dropped at once, a dict of a million keys took 14-19 ms to free in one call (43 ms
        for three million, a busy hour's addresses); 64 at a time, 6.5 us per check (each
        entry's index slot is looked up: 100 ns an entry against 15-20, hence only large
        dicts), and a window's keys are gone long before it ends again, since a check
        adds at most one key per window."""
        table = self._drained[-1]
        for _ in range(min(len(table), _FREED_PER_CHECK)):
            table.popitem()
        if not table:
            self._drained.pop()
