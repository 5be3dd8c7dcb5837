"""Crowd state without Redis at outage scale: memory per reporter and the longest call.

Without Redis, one process keeps the report limits (`ReportLimiter`) and the count gate
(`MemoryGate`) in memory, one entry per reporter: at the scale of a large outage (AWS,
October 2025: 6.5 million reports in about two hours, ~900 a second) that is millions
of entries, all on the event loop. This runs the real classes with the default settings
(pantau.settings: limits, voices, the `Hasher`'s hashes) on N distinct reporters, each a
new address on a new /24 as in bench/ingest.py's X-Forwarded-For scheme, read through
the real `Proxies`, without a server. The simulated clock:

1. one report an hour before (the server was already running: the hour window has
   rolled before the outage, so at step 3 the outage's keys all lie in the window that
   has just ended, the costliest roll for a table swept of idle keys);
2. the outage: N reporters, `--rate` a second of simulated time, from an hour's start;
3. "hour roll": one report at the start of the next hour, when every window rolls with
   N entries behind it, and the gate's entries from the outage are 30 minutes old;
   then N/10 more reports at `--rate`, during which the gate forgets those entries;
4. "quiet gap": one report three hours later, when everything has expired.

Figures:
- held: memory the limiter and gate hold after step 2, per reporter, as counted by
  tracemalloc (objects Python allocates: keys, values, tables) in a second pass of the
  same sequence, and as the process's RSS grew during the timed pass (allocator slack
  and freed-but-kept pages included).
- worst call: the longest single `check` and `admit` during step 2 (the
  window rolls, the gate's expiry and the collector's pauses included; the server's GC
  settings from pantau.cli.serve are applied), and the calls of steps 3 and 4.
- mean: per call during step 2, timer included (two perf_counter_ns reads, ~0.1 us).

Usage: python bench/crowd_memory.py [--reporters 1000000] [--rate 900]
"""

from __future__ import annotations

import argparse
import gc
import os
import time
import tracemalloc
from dataclasses import dataclass
from datetime import UTC, datetime
from ipaddress import ip_network

from pantau.cli.serve import tune_collector
from pantau.crowd.gates import MemoryGate
from pantau.crowd.identity import Hasher, Proxies
from pantau.crowd.limiter import ReportLimiter
from pantau.settings import load_settings

SERVICE = "chatgpt"
PEER = "127.0.0.1"
# An hour's start (2025-10-20 07:00 UTC, the AWS outage's morning).
START = 1_760_943_600.0


@dataclass
class Run:
    held_bytes: int = 0
    rss_bytes: int = 0
    limiter_mean_ns: float = 0.0
    gate_mean_ns: float = 0.0
    limiter_worst_ns: int = 0
    limiter_worst_at: int = 0
    gate_worst_ns: int = 0
    gate_worst_at: int = 0
    refused: int = 0
    counted: int = 0
    probes: tuple[tuple[str, int, int], ...] = ()
    after: tuple[int, float, int] = (0, 0.0, 0)
    """Reports after the hour roll, the gate's mean and worst ns over them."""


def forwarded(i: int) -> str:
    return f"{11 + (i >> 16) % 200}.{(i >> 8) & 255}.{i & 255}.7"


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def run(reporters: int, rate: float, traced: bool) -> Run:
    settings = load_settings()
    limiter = ReportLimiter(settings.report_limit_address, settings.report_limit_network)
    gate = MemoryGate(settings.crowd_network_voices)
    hasher = Hasher(settings.secret_key.get_secret_value().encode())
    proxies = Proxies([ip_network("127.0.0.0/8")])
    day = datetime.fromtimestamp(START, UTC).date()
    clock = time.perf_counter_ns
    result = Run()

    def one(i: int, now: float) -> tuple[int, int]:
        where = proxies.origin(PEER, forwarded(i))
        assert where is not None
        t0 = clock()
        wait = limiter.check(where, now)
        t1 = clock()
        if wait is not None:
            result.refused += 1
            return t1 - t0, 0
        who = hasher.reporter(day, None, where)
        t2 = clock()
        counted = gate.admit(SERVICE, who.gate_reporter, who.gate_network, now)
        t3 = clock()
        result.counted += counted
        return t1 - t0, t3 - t2

    one(reporters, START - 3600.0)
    gc.collect()
    if traced:
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
    rss_before = rss()
    limiter_total = gate_total = 0
    for i in range(reporters):
        spent_limiter, spent_gate = one(i, START + i / rate)
        limiter_total += spent_limiter
        gate_total += spent_gate
        if spent_limiter > result.limiter_worst_ns:
            result.limiter_worst_ns, result.limiter_worst_at = spent_limiter, i
        if spent_gate > result.gate_worst_ns:
            result.gate_worst_ns, result.gate_worst_at = spent_gate, i
    result.rss_bytes = rss() - rss_before
    if traced:
        result.held_bytes = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
    result.limiter_mean_ns = limiter_total / reporters
    result.gate_mean_ns = gate_total / reporters
    roll = START + 3600.0
    result.probes = (("hour roll", *one(reporters + 1, roll)),)
    # The reports after the roll forget the outage's entries a few at a time.
    spent_gate_after = worst_gate_after = 0
    after = max(1, reporters // 10)
    for i in range(after):
        spent = one(reporters + 2 + i, roll + (i + 1) / rate)[1]
        spent_gate_after += spent
        worst_gate_after = max(worst_gate_after, spent)
    result.after = (after, spent_gate_after / after, worst_gate_after)
    result.probes += (("quiet gap", *one(2 * reporters, START + 4 * 3600.0)),)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reporters", type=int, default=1_000_000)
    parser.add_argument("--rate", type=float, default=900.0, help="reports a simulated second")
    args = parser.parse_args()
    n = args.reporters
    tune_collector()  # as pantau serve runs
    timed = run(n, args.rate, traced=False)
    gc.collect()
    traced = run(n, args.rate, traced=True)
    span = n / args.rate
    print(f"{n:,} distinct reporters (each a new /24) over {span:,.0f} s of simulated time;"
          f" refused {timed.refused:,}, counted {timed.counted:,}")
    print(f"held after the outage: {traced.held_bytes / n:,.0f} B/reporter (tracemalloc, "
          f"{traced.held_bytes / 2**20:,.1f} MiB); RSS grew {timed.rss_bytes / n:,.0f} B/reporter "
          f"({timed.rss_bytes / 2**20:,.1f} MiB)")
    print(f"limiter check:           mean {timed.limiter_mean_ns / 1e3:.2f} us, worst "
          f"{timed.limiter_worst_ns / 1e6:.2f} ms (report {timed.limiter_worst_at:,}, "
          f"t+{timed.limiter_worst_at / args.rate:,.0f} s)")
    print(f"gate admit:              mean {timed.gate_mean_ns / 1e3:.2f} us, worst "
          f"{timed.gate_worst_ns / 1e6:.2f} ms (report {timed.gate_worst_at:,}, "
          f"t+{timed.gate_worst_at / args.rate:,.0f} s)")
    for name, spent_limiter, spent_gate in timed.probes:
        print(f"{name}: limiter {spent_limiter / 1e6:.2f} ms, gate {spent_gate / 1e6:.2f} ms")
    after, mean, worst = timed.after
    print(f"the {after:,} reports after the roll (the outage's entries forgotten meanwhile):"
          f" gate mean {mean / 1e3:.2f} us, worst {worst / 1e6:.2f} ms")


if __name__ == "__main__":
    main()
