"""How long one minute of fusion takes for a large catalog (the pure core only).

Feeds `FusionEngine` with N services, each with probe verdicts from 5 vantage points x 2
monitors and a detector minute; a tenth of them fail behind three CDNs for part of the
hour (so incidents open, shared CDN incidents link them, and they resolve). Prints the
time per fused minute and per service.

Usage: python bench/fusion.py [--services 2000] [--minutes 60]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

from pantau.incidents.engine import FusionEngine, ServiceInput
from pantau.signals import CrowdMinute, CrowdState, Layer, ProbeVerdict

START = datetime(2025, 1, 23, 11, 0, tzinfo=UTC)
VANTAGES = ("jakarta", "surabaya", "denpasar", "singapore", "frankfurt")
CDNS = ("cloudflare", "fastly", "akamai")


def inputs(services: int, at: datetime, minute: int) -> list[ServiceInput]:
    out = []
    for i in range(services):
        cdn = CDNS[i % 3]
        failing = i % 10 == 0 and 10 <= minute < 30
        probes = [ProbeVerdict(service=f"s{i}", monitor=f"s{i} {kind}", vantage=v, at=at,
                               ok=not failing, layer=Layer.EDGE if failing else Layer.NONE,
                               cause="edge_500" if failing else "ok", cdn=cdn,
                               status=500 if failing else 200, total_ms=50.0)
                  for v in VANTAGES for kind in ("web", "api")]
        crowd = CrowdMinute(service=f"s{i}", minute=at, reporters=40 if failing else 1,
                            networks=40 if failing else 1, expected=1.0,
                            score=1.0 if failing else 0.0,
                            state=CrowdState.DETECTED if failing else CrowdState.NORMAL,
                            categories={"website": 40 if failing else 1})
        out.append(ServiceInput(f"s{i}", f"Service {i}", cdn, crowd, probes))
    return out


def main(services: int, minutes: int) -> int:
    engine = FusionEngine()
    timings = []
    opened = 0
    for m in range(minutes):
        at = START + timedelta(minutes=m)
        batch = inputs(services, at, m)
        started = time.perf_counter()
        result = engine.step(at, batch)
        timings.append((time.perf_counter() - started) * 1000)
        opened += sum(e.kind.value == "opened" for e in result.events)
    p50 = statistics.median(timings)
    worst = max(timings)
    print(f"{services} services x {minutes} minutes: p50 {p50:.1f} ms per fused minute "
          f"({p50 * 1000 / services:.1f} µs per service), worst {worst:.1f} ms; "
          f"{opened} incidents opened (incl. shared)")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=2000)
    parser.add_argument("--minutes", type=int, default=60)
    args = parser.parse_args()
    sys.exit(main(args.services, args.minutes))
