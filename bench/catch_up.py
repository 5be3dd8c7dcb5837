"""The crowd minute job catching up after a stop: a day of minutes rolled up and scored at
once, as `pantau serve` does when it starts again after being down.

A day of ordinary reports for every catalog service (a daily rhythm, a few per minute
for most, one busy service at about 60 a minute; a voice each, and a repeat now and
then) is written to a fresh SQLite database, or to a database made on a PostgreSQL
server (`--database postgresql://…`). The job then catches up on the day
(`detect.job.catch_up` with `MAX_CATCH_UP` to do: a rollup query per minute, then the
scoring in a thread) while the event loop does 1 ms slices of busy work, as in
bench/minute_job.py: "loop share" is the part of the wall time those slices got,
"lateness" the longest one waited past its turn (what a report or a page would have
waited meanwhile). Figures are per round; rounds start from the same stored day.

Usage: python bench/catch_up.py [--hours 24] [--rounds 3] [--database postgresql://…]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

import numpy as np

from ingest import bench_database
from minute_job import beside_the_loop, store_rows
from pantau.catalog import Catalog
from pantau.cli.serve import tune_collector
from pantau.detect.job import (
    COMMIT_GRACE_SECONDS,
    MAX_CATCH_UP,
    CrowdScorer,
    catch_up,
    count_config,
)
from pantau.settings import load_settings
from pantau.store import Store
from pantau.store.report_insert import NewReport
from pantau.store.reports import reports_store

END = datetime(2025, 1, 23, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def day_of_reports(services: list[str], hours: int, seed: int = 5) -> list[NewReport]:
    """Voices at a daily rhythm (quietest at night), about 3 a minute for most services and
    60 for the first; one in ten is followed by its reporter's repeat."""
    rng = np.random.default_rng(seed)
    start = END - timedelta(hours=hours)
    out: list[NewReport] = []
    for k, service in enumerate(services):
        level = 60.0 if k == 0 else 3.0
        for m in range(hours * 60):
            at = start + m * MINUTE
            rhythm = 1 + 0.8 * math.sin(2 * math.pi * ((at.hour * 60 + at.minute) / 1440 - 0.3))
            for i in range(rng.poisson(level * rhythm)):
                when = at + timedelta(seconds=float(rng.uniform(0, 60)))
                who, net = f"r{k}-{m}-{i}", f"n{rng.integers(0, 5000)}"
                out.append(NewReport(f"{len(out):032x}", service, when, who, net, "website",
                                     "ID-JK", "502", "502 bad gateway", True))
                if rng.random() < 0.1:
                    again = when + timedelta(minutes=float(rng.uniform(1, 20)))
                    out.append(NewReport(f"{len(out):032x}", service, again, who, net, "app",
                                         None, "login", "login loop", False))
    return [r for r in out if r.at < END]


async def main_async(hours: int, rounds: int, server: str | None) -> int:
    services = [s.slug for s in Catalog.default().services]
    rows = day_of_reports(services, hours)
    minutes = min(hours * 60, int(MAX_CATCH_UP / MINUTE))
    runs: list[tuple[float, float, float, float]] = []
    with bench_database(server) as url:
        store = Store(url)
        store.migrate()
        await store.start()
        try:
            await store_rows(store, rows)
            crowd = reports_store(store)
            for _ in range(rounds):
                scorer = CrowdScorer(count_config(load_settings()))
                scorer.last_minute = END - (minutes + 1) * MINUTE
                done: list[object] = []

                async def job(scorer: CrowdScorer = scorer, done: list[object] = done) -> None:
                    now = END + timedelta(seconds=COMMIT_GRACE_SECONDS + 1)
                    done += await catch_up(scorer, crowd, services, now)

                wall = time.perf_counter()
                cpu, share, late = await beside_the_loop(job)
                wall = time.perf_counter() - wall
                assert len(done) == minutes * len(services), len(done)
                runs.append((wall, cpu, share, late))
        finally:
            await store.close()
    kind = "SQLite" if server is None else "PostgreSQL"
    wall, cpu, share, late = (statistics.median(r[i] for r in runs) for i in range(4))
    print(f"catch-up after a stop: {minutes} minutes x {len(services)} services, {len(rows):,} "
          f"reports stored, {kind}, {rounds} rounds (medians):")
    print(f"  {wall:6.1f} s wall, {cpu:6.1f} s CPU ({cpu / minutes * 1e3:5.1f} ms a minute of "
          f"all services); loop share {share:4.0%}, lateness {late * 1e3:5.0f} ms")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=int, default=24, help="hours of reports stored")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database", help="a PostgreSQL server to make the run's database on")
    args = parser.parse_args()
    tune_collector()  # as pantau serve runs
    return asyncio.run(main_async(args.hours, args.rounds, args.database))


if __name__ == "__main__":
    sys.exit(main())
