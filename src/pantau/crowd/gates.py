"""Who counts: one voice per reporter per service per 30 minutes, a few per network.

A repeated report from the same reporter within the window is stored (it adds
details) but not counted again. Each network may add at most `voices` counted
reporters per service per window, so many forged client ids behind one address
do not become many people. Kept here in one process's memory, with the rate limits
(`LocalCrowd`); `shared.SharedCrowd` keeps both in Redis for several processes.
"""

from __future__ import annotations

import math
from collections import deque
from typing import NamedTuple

from pantau.crowd.identity import Origin, Reporter
from pantau.crowd.limiter import ReportLimiter

WINDOW_SECONDS = 30 * 60


class Decision(NamedTuple):
    """What the rate limits and the gate make of one report."""

    wait: int | None
    """Seconds to wait if a limit refused the report, else None."""
    counted: bool
    """Whether the report is a new voice (never, if refused)."""


class MemoryGate:
    """The gate in one process's memory.

    Per service, a dict of the reporters seen (-> when first seen) and one of the
    networks' voices used, keyed by the hashes as given. Parallel queues name each
    entry's dict and key (and a network's start) in the order first seen, so that
    expiry only looks at the front: no tuple per entry, no linked node of an
    OrderedDict, nothing the collector has to track. With a tuple-keyed OrderedDict
    each, a new reporter on a new network held 516 bytes here, now 279 (tracemalloc,
    300,000 of them), and took 1.2 us, now 0.9 (bench/crowd_memory.py).
    """

    def __init__(self, voices: int, window: float = WINDOW_SECONDS) -> None:
        self._voices = voices
        self._window = window
        self._seen: dict[str, dict[str, float]] = {}
        self._used: dict[str, dict[str, int]] = {}
        # First sightings in order, so expiry only ever looks at the front.
        self._seen_in: deque[dict[str, float]] = deque()
        self._seen_keys: deque[str] = deque()
        self._used_in: deque[dict[str, int]] = deque()
        self._used_keys: deque[str] = deque()
        self._used_since: deque[float] = deque()
        # The earlier of the two fronts' times (or earlier still): until it is a window
        # old, nothing has expired, and a report need not look at the fronts (7 % of the
        # ingest path's own CPU in a profile).
        self._front = math.inf

    def _expire(self, now: float) -> None:
        window = self._window
        seen_in, seen_keys = self._seen_in, self._seen_keys
        while seen_keys and now - seen_in[0][seen_keys[0]] >= window:
            del seen_in.popleft()[seen_keys.popleft()]
        used_in, used_keys, used_since = self._used_in, self._used_keys, self._used_since
        while used_since and now - used_since[0] >= window:
            used_since.popleft()
            del used_in.popleft()[used_keys.popleft()]
        self._front = min(
            seen_in[0][seen_keys[0]] if seen_keys else math.inf,
            used_since[0] if used_since else math.inf,
        )

    def admit(self, service: str, reporter: str, network: str, now: float) -> bool:
        """True if this report, at `now` (seconds), counts as a new voice."""
        if now - self._front >= self._window:
            self._expire(now)
        seen = self._seen.get(service)
        if seen is None:
            seen = self._seen[service] = {}
            self._used[service] = {}
        if reporter in seen:
            return False
        used = self._used[service]
        voices = used.get(network, 0)
        if voices >= self._voices:
            return False
        seen[reporter] = now
        self._seen_in.append(seen)
        self._seen_keys.append(reporter)
        if not voices:
            self._used_in.append(used)
            self._used_keys.append(network)
            self._used_since.append(now)
        used[network] = voices + 1
        if now < self._front:
            self._front = now
        return True


class LocalCrowd:
    """The rate limits, then the gate, in this process's memory.

    Called, not awaited: nothing here waits, and a coroutine per report costs the
    ingest path more than the decision (bench/ingest.py)."""

    def __init__(self, limiter: ReportLimiter, gate: MemoryGate) -> None:
        self._limiter = limiter
        self._gate = gate

    def decide(self, service: str, where: Origin, who: Reporter, now: float) -> Decision:
        wait = self._limiter.check(where, now)
        if wait is not None:
            return Decision(wait, False)
        return Decision(None, self._gate.admit(service, who.reporter, who.network, now))
