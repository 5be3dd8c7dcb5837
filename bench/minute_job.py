"""The crowd detector's minute job at surge scale: CPU per report, and what it does to the
event loop that takes the reports in.

One minute of N reports for one service (each a voice, from N/2 networks; and as many
repeats again, uncounted, with a new text each) is written to a fresh SQLite database,
or to a database made on a PostgreSQL server (`--database postgresql://…`). Then, on
the same data and in the same run:

- python: the rows read (`rollup_rows`) and rolled up in Python (`crowd.rollup.rollup`),
  the reference, which the job used to run on the event loop's thread;
- database: the rollup counted by the database (`rollup_counts`, `from_counts`), what
  the job runs now, in a thread;
- the job itself (`detect.job.catch_up`, all catalog services).

Each runs while the event loop does 1 ms slices of busy work, with a pause of 0.25 ms
between them, as if taking reports in at 80 % of its capacity: "loop share" is the part
of the wall time those slices got (the rest went to the rollup's thread, which holds
the GIL while it runs Python, or waited), and "lateness" the longest a slice waited
past its turn (how long a report or a page would have waited). The python path is
measured both on the loop's thread (lateness: all of it) and in a thread, where
sqlite3 lets go of the GIL at every row and waits for the loop's thread to give it
back.

The server's garbage-collector settings are used (`pantau serve`'s).

Usage: python bench/minute_job.py [--reports 100000] [--rounds 3] [--database postgresql://…]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from ingest import bench_database
from pantau.catalog import Catalog
from pantau.cli.serve import tune_collector
from pantau.crowd.rollup import from_counts, rollup
from pantau.detect.job import REPEATS_WITHIN, CrowdScorer, catch_up, count_config
from pantau.settings import load_settings
from pantau.store import Store
from pantau.store.report_insert import NewReport
from pantau.store.reports import reports_store

START = datetime(2025, 1, 23, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
PAUSE = 0.00025
"""Seconds between two slices of the loop's busy work."""


def surge(n: int) -> list[NewReport]:
    out = []
    for i in range(n):
        at = START + timedelta(seconds=i * 30 / n)
        args = ("chatgpt", at, f"r{i}", f"n{i // 2}", "website", "ID-JK")
        out.append(NewReport(f"{i:032x}", *args, "502", "502 bad gateway", True))
        again = at + timedelta(seconds=30)
        out.append(NewReport(f"{n + i:032x}", "chatgpt", again, f"r{i}", f"n{i // 2}", "app",
                             None, "login", "login loop", False))
    return out


async def store_rows(store: Store, rows: list[NewReport]) -> None:
    """Write `rows` as the group commit does, in big batches."""
    crowd = reports_store(store)
    for start in range(0, len(rows), 20_000):
        chunk = rows[start : start + 20_000]

        def write(conn: object, chunk: list[NewReport] = chunk) -> None:
            cursor = conn.connection.cursor()  # type: ignore[attr-defined]
            crowd._report_insert.run(cursor, chunk)
            cursor.close()

        await store.writer.submit(write)


Work = Callable[[], Awaitable[object]]


async def beside_the_loop(work: Work) -> tuple[float, float, float]:
    """Run `work` while the loop does 1 ms slices of busy work; returns the CPU seconds of
    the process, the slices' share of the wall time and their worst lateness (s)."""
    slices, late = 0, 0.0

    async def busy() -> None:
        nonlocal slices, late
        while True:
            due = time.perf_counter() + PAUSE
            await asyncio.sleep(PAUSE)
            late = max(late, time.perf_counter() - due)
            end = time.perf_counter() + 0.001
            while time.perf_counter() < end:
                pass
            slices += 1

    ticker = asyncio.create_task(busy())
    await asyncio.sleep(0.02)
    slices, late = 0, 0.0
    cpu, wall = time.process_time(), time.perf_counter()
    await work()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    done = slices
    await asyncio.sleep(0.01)  # the ticker's turn, to see how late it was
    ticker.cancel()
    slices = done
    # The slices' own CPU is not the work's.
    return cpu - slices * 0.001, slices * 0.001 / wall, late


async def main_async(n: int, rounds: int, server: str | None) -> int:
    with bench_database(server) as url:
        store = Store(url)
        store.migrate()
        await store.start()
        try:
            await store_rows(store, surge(n))
            crowd = reports_store(store)
            services = [s.slug for s in Catalog.default().services]
            since, until = START - timedelta(minutes=29), START + MINUTE

            async def python_on_loop() -> None:
                rollup(await crowd.rollup_rows(since, until, REPEATS_WITHIN), since)

            async def python_in_thread() -> None:
                rows = await crowd.rollup_rows(since, until, REPEATS_WITHIN)
                await asyncio.to_thread(rollup, rows, since)

            async def database() -> None:
                counts = await crowd.rollup_counts(since, until, REPEATS_WITHIN)
                await asyncio.to_thread(from_counts, counts)

            async def job() -> None:
                scorer = CrowdScorer(count_config(load_settings()))
                scorer.last_minute = START - MINUTE
                await catch_up(scorer, crowd, services, START + MINUTE + timedelta(seconds=3))

            reference = rollup(await crowd.rollup_rows(since, until, REPEATS_WITHIN), since)
            assert from_counts(await crowd.rollup_counts(since, until, REPEATS_WITHIN)) == reference
            paths: dict[str, Work] = {
                "python rollup, on the loop": python_on_loop,
                "python rollup, in a thread": python_in_thread,
                "database rollup, in a thread": database,
                f"the job ({len(services)} services)": job,
            }
            figures: dict[str, list[tuple[float, float, float]]] = {name: [] for name in paths}
            for _ in range(rounds):
                for name, work in paths.items():
                    figures[name].append(await beside_the_loop(work))
        finally:
            await store.close()
    kind = "SQLite" if server is None else "PostgreSQL"
    print(f"minute job, {n:,} voices + {n:,} repeats in one minute, {kind}, {rounds} rounds "
          "(medians; CPU of this process, the database's own work included on SQLite):")
    reference = statistics.median(f[0] for f in figures["python rollup, on the loop"])
    for name, runs in figures.items():
        cpu = statistics.median(f[0] for f in runs)
        share = statistics.median(f[1] for f in runs)
        late = statistics.median(f[2] for f in runs)
        print(f"  {name:30s} {cpu:5.2f} s CPU, {cpu / (2 * n) * 1e6:5.1f} us/report "
              f"({cpu / reference:4.0%}); loop share {share:4.0%}, lateness {late * 1e3:5.0f} ms")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=100_000, help="voices in the minute")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database", help="a PostgreSQL server to make the run's database on")
    args = parser.parse_args()
    tune_collector()  # as pantau serve runs
    return asyncio.run(main_async(args.reports, args.rounds, args.database))


if __name__ == "__main__":
    sys.exit(main())
