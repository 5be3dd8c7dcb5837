"""Is this vantage point itself cut off? Asked before blaming a service.

Several independent targets (different hosts, networks, resolvers) are checked; the
vantage counts as connected while at least `quorum` of them answer. The answer is
cached for `ttl` seconds of the injected clock, and only asked when a check failed
at a layer a local outage could explain, so a healthy run costs nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime, timedelta

from pantau.clock import Clock
from pantau.probes.classify import classify
from pantau.probes.prober import Check, Prober
from pantau.signals import Layer

# Failures that a dead uplink or resolver on our side would also produce.
LOCAL_SUSPECT_LAYERS = frozenset({Layer.DNS, Layer.NETWORK, Layer.TLS, Layer.ORIGIN})


class SelfCheck:
    def __init__(
        self,
        prober: Prober,
        targets: Sequence[Check],
        clock: Clock,
        *,
        quorum: int = 1,
        ttl: float = 30.0,
    ) -> None:
        if targets and not 1 <= quorum <= len(targets):
            raise ValueError("quorum must be between 1 and the number of targets")
        self.prober = prober
        self.targets = tuple(targets)
        self.clock = clock
        self.quorum = quorum
        self.ttl = timedelta(seconds=ttl)
        self._known: tuple[datetime, bool] | None = None
        self._lock = asyncio.Lock()
        self.runs = 0

    async def connected(self) -> bool:
        """True when enough targets answer (or when no targets are configured)."""
        if not self.targets:
            return True
        async with self._lock:  # many failing checks at once share one self-check
            now = self.clock.now()
            if self._known is not None and now - self._known[0] < self.ttl:
                return self._known[1]
            observations = await asyncio.gather(*(self.prober.run(t) for t in self.targets))
            answered = sum(classify(o).ok for o in observations)
            self.runs += 1
            self._known = (self.clock.now(), answered >= self.quorum)
            return self._known[1]

    async def reliable(self, layer: Layer) -> bool:
        """Whether a result at `layer` can be trusted as the service's fault."""
        if layer not in LOCAL_SUSPECT_LAYERS:
            return True
        return await self.connected()
