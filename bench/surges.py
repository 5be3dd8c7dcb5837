"""Crowd-surge benchmark for pantau's count detector on synthetic services.

Each synthetic service has a daily rhythm (quiet nights, an evening peak), a
weekly one (weekends at 70 %), hour-to-hour wobble (log-normal, 15 %) and Poisson
reports. Services range from quiet (peak 1 report/min) to busy (peak 100/min).
The detector first learns two weeks of normal traffic; then

- false alarms: clean 30-day months per service (3 by default), alarms counted;
- detection delay: surges of ×2 … ×100 lasting 5 … 120 min injected at random
  times of day, each into a copy of the trained detector; delay = minutes from
  the surge's first minute to the alarm (0 = the same minute), a miss if no alarm
  before the surge ends.

Usage: python bench/surges.py [--trials 6] [--months 3] [--seed 7]
"""

from __future__ import annotations

import argparse
import copy
import math
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from pantau.detect.counts import CountDetector

START = datetime(2025, 1, 6, tzinfo=UTC)
MULTIPLIERS = (2, 3, 5, 10, 30, 100)
DURATIONS = (5, 15, 30, 60, 120)
TRAIN_DAYS = 14
MONTH_DAYS = 30


@dataclass(frozen=True, slots=True)
class Service:
    name: str
    peak: float  # reports per minute at the daily peak, on a weekday


SERVICES = (
    Service("quiet", 1.0),
    Service("small", 5.0),
    Service("medium", 20.0),
    Service("busy", 100.0),
)


def rate(service: Service, minute: datetime, wobble: float) -> float:
    hour = minute.hour + minute.minute / 60
    daily = 0.15 + 0.85 * math.exp(-(((hour - 20) / 5) ** 2))
    weekly = 0.7 if minute.weekday() >= 5 else 1.0
    return service.peak * daily * weekly * wobble


class Traffic:
    """Normal reports for one service, reproducible minute by minute."""

    def __init__(self, service: Service, rng: np.random.Generator, days: int) -> None:
        self.service = service
        self.rng = rng
        self.wobble = np.exp(rng.normal(0.0, 0.15, days * 24 + 1))

    def count(self, minute: datetime, multiplier: float = 1.0) -> int:
        hours = int((minute - START).total_seconds() // 3600)
        mean = rate(self.service, minute, float(self.wobble[hours])) * multiplier
        return int(self.rng.poisson(mean))


def feed(det: CountDetector, traffic: Traffic, start: datetime, minutes: int) -> int:
    alarms = 0
    for i in range(minutes):
        minute = start + timedelta(minutes=i)
        n = traffic.count(minute)
        alarms += det.update(minute, n, n).alarm
    return alarms


def trial(
    trained: CountDetector, traffic: Traffic, at: datetime, multiplier: int, duration: int
) -> int | None:
    det = copy.deepcopy(trained)
    lead = 60  # an hour of normal traffic first, so the trial starts in a normal state
    for i in range(-lead, duration):
        minute = at + timedelta(minutes=i)
        n = traffic.count(minute, multiplier if i >= 0 else 1.0)
        if det.update(minute, n, n).alarm and i >= 0:
            return i
    return None


def percentile(values: list[int], q: float) -> str:
    return f"{np.percentile(values, q):.0f}" if values else "-"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=6, help="surges per service/size/length")
    parser.add_argument("--months", type=int, default=3, help="clean months per service")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    started = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    delays: dict[int, list[int]] = {m: [] for m in MULTIPLIERS}
    missed: dict[int, int] = dict.fromkeys(MULTIPLIERS, 0)
    by_service: dict[tuple[str, int], list[int | None]] = {}
    false_alarms = 0
    for service in SERVICES:
        traffic = Traffic(service, rng, TRAIN_DAYS + args.months * MONTH_DAYS + 2)
        det = CountDetector()
        feed(det, traffic, START, TRAIN_DAYS * 1440)
        trained = copy.deepcopy(det)
        month_start = START + timedelta(days=TRAIN_DAYS)
        fa = feed(det, traffic, month_start, args.months * MONTH_DAYS * 1440)
        false_alarms += fa
        print(f"{service.name:7s} peak {service.peak:5.0f}/min: "
              f"{fa} false alarms in {args.months} months")
        for multiplier in MULTIPLIERS:
            for duration in DURATIONS:
                for _ in range(args.trials):
                    offset = int(rng.integers(120, (MONTH_DAYS - 1) * 1440))
                    at = month_start + timedelta(minutes=offset)
                    delay = trial(trained, traffic, at, multiplier, duration)
                    by_service.setdefault((service.name, multiplier), []).append(delay)
                    if delay is None:
                        missed[multiplier] += 1
                    else:
                        delays[multiplier].append(delay)
    total = len(SERVICES) * len(DURATIONS) * args.trials
    months = args.months * len(SERVICES)
    print(f"\nfalse alarms per service-month: {false_alarms / months:.2f} ({months} months)")
    print(f"{'surge':>6s} {'found':>9s} {'median':>7s} {'p90':>5s}   median by service")
    for m in MULTIPLIERS:
        per = []
        for service in SERVICES:
            found = [d for d in by_service[(service.name, m)] if d is not None]
            per.append(f"{service.name}={percentile(found, 50)}")
        print(
            f"{'×' + str(m):>6s} {total - missed[m]:4d}/{total:<4d} "
            f"{percentile(delays[m], 50):>7s} {percentile(delays[m], 90):>5s}   {' '.join(per)}"
        )
    elapsed = time.perf_counter() - started
    print(f"(delays in minutes after the surge's first minute; {elapsed:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
