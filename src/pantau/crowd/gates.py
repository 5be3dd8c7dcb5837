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
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from pantau.crowd.identity import Origin, Reporter
from pantau.crowd.limiter import SHARDS, ReportLimiter

WINDOW_SECONDS = 30 * 60


class Decision(NamedTuple):
    """What the rate limits and the gate make of one report."""

    wait: int | None
    """Seconds to wait if a limit refused the report, else None."""
    counted: bool
    """Whether the report is a new voice (never, if refused)."""
    heard: float | None = None
    """For a repeat: when (Unix seconds) the voice it repeats was counted, else None."""


@dataclass(slots=True)
class _Networks:
    """One service's networks: when each one's window began, and its voices beyond the
    first (most networks have one, so most have no entry here)."""

    since: dict[str, float] = field(default_factory=dict)
    more: dict[str, int] = field(default_factory=dict)


class MemoryGate:
    """The gate in one process's memory.

    Per service, dicts of the reporters seen (-> when first seen) and the networks'
    (`_Networks`), keyed by the hashes as given (the gate's, `Reporter.gate_reporter`),
    each split in SHARDS by the key's hash (see `limiter.SHARDS`). Parallel queues name
    each entry's table, key and time in the order first seen, so that expiry only looks
    at the front: no tuple per entry, no linked node of an OrderedDict, nothing the
    collector has to track. With a tuple-keyed OrderedDict each, a new reporter on a
    new network held 516 bytes here, now 280, its two 32-digit hashes included
    (tracemalloc, 300,000 of them).

    Each call forgets at most `expired_per_call` entries of each queue: after a quiet
    spell all of an outage's entries expire at once, and forgetting a million in one
    call held the event loop for 0.6-0.9 s (bench/crowd_memory.py, "hour roll"). So an
    entry may be held past its time, and is treated as gone when looked up. Time is
    the latest clock seen: an entry is gone once that is a window past it, and a clock
    that steps back a little neither revives an entry nor makes one that is born
    expired. One that steps back further than a window is taken as it is, and
    everything heard is forgotten.
    """

    def __init__(
        self, voices: int, window: float = WINDOW_SECONDS, expired_per_call: int = 16
    ) -> None:
        self._voices = voices
        self._window = window
        self._expired_per_call = expired_per_call
        self._seen: dict[str, list[dict[str, float]]] = {}
        self._networks: dict[str, list[_Networks]] = {}
        self._latest = -math.inf
        self._seen_in: deque[dict[str, float]] = deque()
        self._seen_keys: deque[str] = deque()
        self._seen_at: deque[float] = deque()
        self._since_in: deque[_Networks] = deque()
        self._since_keys: deque[str] = deque()
        self._since_at: deque[float] = deque()
        # The earlier of the two fronts' times (or earlier still): until it is a window
        # old, nothing has expired, and a report need not look at the fronts (7 % of the
        # ingest path's own CPU in a profile).
        self._front = math.inf

    @property
    def window(self) -> float:
        """Seconds a voice holds."""
        return self._window

    def _expire(self, expired: float) -> None:
        """Forget a few of the entries from `expired` or before, the front ones."""
        seen_in, seen_keys, seen_at = self._seen_in, self._seen_keys, self._seen_at
        for _ in range(self._expired_per_call):
            if not seen_at or seen_at[0] > expired:
                break
            table, key, at = seen_in.popleft(), seen_keys.popleft(), seen_at.popleft()
            # Not if it was counted anew after it expired: that is a later entry.
            if table.get(key) is at:
                del table[key]
        since_in, since_keys, since_at = self._since_in, self._since_keys, self._since_at
        for _ in range(self._expired_per_call):
            if not since_at or since_at[0] > expired:
                break
            networks, key, at = since_in.popleft(), since_keys.popleft(), since_at.popleft()
            if networks.since.get(key) is at:
                del networks.since[key]
                networks.more.pop(key, None)
        self._front = min(
            seen_at[0] if seen_at else math.inf, since_at[0] if since_at else math.inf
        )

    def admit(
        self, service: str, reporter: str, network: str, now: float, used: int = 0
    ) -> bool:
        """True if this report, at `now` (seconds), counts as a new voice; `used`: the
        network's voices already spent that this gate has not seen (`LocalCrowd`)."""
        if now > self._latest:
            self._latest = now
        elif now < self._latest - self._window:
            # A clock corrected further back than a window: held at the latest time,
            # every voice would hold for the step's length. Gone by, as Redis does, with
            # what was heard forgotten: some of it already is, and what is left would be
            # held or not by how much had been forgotten so far.
            self._forget_all()
            self._latest = now
        else:
            # A clock that stepped back a little (a report late from another worker, the
            # system clock corrected): counted as at the latest time, or it would be
            # expired as it is written and every repeat would count again.
            now = self._latest
        # Entries from this time or before are gone, whether forgotten yet or not.
        expired = self._latest - self._window
        if self._front <= expired:
            self._expire(expired)
        shards = self._seen.get(service)
        if shards is None:
            shards = self._seen[service] = [{} for _ in range(SHARDS)]
            self._networks[service] = [_Networks() for _ in range(SHARDS)]
        seen = shards[hash(reporter) % SHARDS]
        at = seen.get(reporter)
        if at is not None and at > expired:
            return False
        networks = self._networks[service][hash(network) % SHARDS]
        began = networks.since.get(network)
        voices = 0 if began is None or began <= expired else 1 + networks.more.get(network, 0)
        if voices + used >= self._voices:
            return False
        seen[reporter] = now
        self._seen_in.append(seen)
        self._seen_keys.append(reporter)
        self._seen_at.append(now)
        if voices:
            networks.more[network] = voices
        else:
            networks.since[network] = now
            if began is not None:
                networks.more.pop(network, None)  # what it had in its expired window
            self._since_in.append(networks)
            self._since_keys.append(network)
            self._since_at.append(now)
        if now < self._front:
            self._front = now
        return True

    def _forget_all(self) -> None:
        self._seen, self._networks = {}, {}
        for queue in (self._seen_in, self._seen_keys, self._seen_at,
                      self._since_in, self._since_keys, self._since_at):
            queue.clear()
        self._front = math.inf

    def give_back(self, service: str, reporter: str, network: str) -> None:
        """Take back the voice `admit` just counted for `reporter`, whose report was then
        not stored: its retry is to count. The queues' entries stay, and are skipped
        when they come up (their table no longer holds their time)."""
        shards = self._seen.get(service)
        if shards is None or shards[hash(reporter) % SHARDS].pop(reporter, None) is None:
            return
        networks = self._networks[service][hash(network) % SHARDS]
        more = networks.more.get(network, 0)
        if more > 1:
            networks.more[network] = more - 1
        elif more == 1:
            del networks.more[network]
        else:
            networks.since.pop(network, None)

    def heard(self, service: str, reporter: str) -> float | None:
        """When `reporter`'s voice for `service` was counted, if it still holds."""
        shards = self._seen.get(service)
        if shards is None:
            return None
        at = shards[hash(reporter) % SHARDS].get(reporter)
        return at if at is not None and at > self._latest - self._window else None


class LocalCrowd:
    """The rate limits, then the gate, in this process's memory.

    Called, not awaited: nothing here waits, and a coroutine per report costs the
    ingest path more than the decision (bench/ingest.py).

    A restarted process's memory is empty, and every reporter of the last half hour
    would have been a new voice again. So it `recall`s the voices the reports table
    holds from then, by the day's hashes stored there (the gate's own keys are never
    stored), and asks them too until they are a window old: just after midnight, by
    the day before's hashes as well."""

    def __init__(self, limiter: ReportLimiter, gate: MemoryGate) -> None:
        self._limiter = limiter
        self._gate = gate
        self._window = gate.window
        self._recalled_until = -math.inf
        self._heard: dict[tuple[str, str], float] = {}
        self._spent: dict[tuple[str, str], tuple[float, int]] = {}

    def recall(self, voices: Iterable[tuple[str, float, str, str]]) -> None:
        """Take in the counted reports (service, Unix time, reporter, network; oldest
        first) of the window before this process started."""
        latest = -math.inf
        for service, at, reporter, network in voices:
            self._heard.setdefault((service, reporter), at)
            since, spent = self._spent.get((service, network), (at, 0))
            self._spent[service, network] = (since, spent + 1)
            latest = max(latest, at)
        self._recalled_until = latest + self._window

    @property
    def recalled_until(self) -> float:
        """Until when (Unix seconds) the voices recalled from the store are asked too."""
        return self._recalled_until

    def decide(
        self, service: str, where: Origin, who: Reporter, now: float,
        day_before: Reporter | None = None,
    ) -> Decision:
        """`day_before`: `who` hashed the day before, while recalled voices from before
        midnight may be theirs (`Hasher.day_before`)."""
        wait = self._limiter.check(where, now)
        if wait is not None:
            return Decision(wait, False)
        used = 0
        if now < self._recalled_until:
            stored = (who,) if day_before is None else (who, day_before)
            for hashed in stored:
                heard = self._heard.get((service, hashed.reporter))
                if heard is not None and now - heard < self._window:
                    return Decision(None, False, heard)
            for hashed in stored:
                since, spent = self._spent.get((service, hashed.network), (0.0, 0))
                used += spent if now - since < self._window else 0
        elif self._heard:
            self._heard, self._spent = {}, {}
        gate = self._gate
        if gate.admit(service, who.gate_reporter, who.gate_network, now, used):
            return Decision(None, True)
        return Decision(None, False, gate.heard(service, who.gate_reporter))

    def give_back(self, service: str, who: Reporter) -> None:
        """The voice `decide` counted for `who`, whose report was not stored after all
        (`MemoryGate.give_back`); its rate-limit budget stays spent."""
        self._gate.give_back(service, who.gate_reporter, who.gate_network)
