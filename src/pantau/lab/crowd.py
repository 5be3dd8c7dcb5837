"""The simulated crowd: a pure, deterministic stream of problem reports.

`generate_reports(scenario, seed, start, end)` yields `SimReport`s in time order.
Arrivals are Poisson per service and minute, at a rate of the service's
`baseline` (reports per hour at the weekday evening peak) times a daily and weekly
rhythm in each region's local time, times the scenario's crowd factor (surges);
region, category and error text are drawn from weights the timeline can change.
Abuse floods come from a few client ids on a few /24 networks and are flagged
`abuse=True` so tests and benchmarks know the ground truth.

Each (minute, service) draws from its own generator seeded by (seed, minute,
service index), so a stream is the same whatever window it is generated in:
[0, 60 min) equals [0, 30 min) followed by [30, 60 min). The reports carry all
a detector needs, so a fast replay can bin them without any HTTP.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from pantau.lab.scenario import Abuse, CrowdChange, Scenario

# Relative activity by local hour; 1.0 is the evening peak (20:00) the baseline names.
_HOURLY = (
    0.45, 0.30, 0.20, 0.15, 0.12, 0.15, 0.25, 0.40, 0.55, 0.65, 0.70, 0.72,
    0.75, 0.72, 0.70, 0.72, 0.75, 0.80, 0.88, 0.95, 1.00, 0.95, 0.80, 0.60,
)
_WEEKEND = 0.85
_TEXT_SHARE = 0.35
_TEXTS = {
    "website": ("halaman tidak bisa dibuka", "page won't load", "loading terus", "blank page"),
    "app": ("aplikasi force close", "app keeps crashing", "tidak bisa konek ke server"),
    "login": ("tidak bisa login", "login failed", "OTP tidak masuk", "logged out by itself"),
    "api": ("API returns 500", "request timed out", "koneksi API gagal"),
    "other": ("lemot banget", "very slow", "error terus", "something went wrong"),
}
# Users come from carrier-grade NAT space (like most Indonesian mobile users);
# flooders from the benchmarking range, so the two never collide.
_USERS = ipaddress.IPv4Network("100.64.0.0/10")
_ABUSERS = ipaddress.IPv4Network("198.18.0.0/15")


@dataclass(frozen=True, slots=True)
class SimReport:
    at: datetime
    service: str
    category: str
    region: str
    text: str
    client_id: str
    ip: str
    network: str
    """The reporter's /24, as a detector groups them."""
    abuse: bool = False


def rhythm(at: datetime, utc_offset: float) -> float:
    """Activity at `at` in a region `utc_offset` hours from UTC, relative to the peak."""
    local = at + timedelta(hours=utc_offset)
    hour = local.hour + local.minute / 60
    low = _HOURLY[int(hour) % 24]
    high = _HOURLY[(int(hour) + 1) % 24]
    value = low + (high - low) * (hour - int(hour))
    return value * (_WEEKEND if local.weekday() >= 5 else 1.0)


def _ip(network: ipaddress.IPv4Network, block: int, host: int) -> tuple[str, str]:
    base = int(network.network_address) + (block % (network.num_addresses // 256)) * 256
    net = ipaddress.IPv4Address(base)
    return str(ipaddress.IPv4Address(base + 1 + host % 254)), f"{net}/24"


def _weights(options: dict[str, float]) -> tuple[list[str], np.ndarray]:
    keys = sorted(options)
    probs = np.array([options[k] for k in keys], dtype=float)
    return keys, probs / probs.sum()


def _crowd_changes(
    scenario: Scenario, offset: timedelta
) -> tuple[dict[str, CrowdChange], dict[str, Abuse]]:
    crowd: dict[str, CrowdChange] = {}
    abuse: dict[str, Abuse] = {}
    for event in scenario.events():
        if event.at > offset:
            break
        for slug in event.targets:
            if event.crowd is not None:
                crowd[slug] = event.crowd
            if event.abuse is not None:
                abuse[slug] = event.abuse
    return crowd, abuse


def generate_reports(
    scenario: Scenario,
    seed: int | None = None,
    start: timedelta = timedelta(0),
    end: timedelta | None = None,
) -> Iterator[SimReport]:
    """Reports with `start <= at - scenario.start < end` (default: the whole scenario)."""
    seed = scenario.seed if seed is None else seed
    end = scenario.duration if end is None else end
    regions = {r.code: r for r in scenario.regions}
    first = int(start.total_seconds() // 60)
    last = int(-(-end.total_seconds() // 60))
    for minute in range(first, last):
        offset = timedelta(minutes=minute)
        at = scenario.at(offset)
        crowd, abuse = _crowd_changes(scenario, offset)
        batch: list[SimReport] = []
        for index, spec in enumerate(scenario.services):
            rng = np.random.default_rng([seed & 0xFFFFFFFF, minute + 2**20, index])
            change = crowd.get(spec.slug)
            region_w = (change.regions if change and change.regions else None) or {
                code: r.weight for code, r in regions.items()
            }
            level = sum(w * rhythm(at, regions[c].utc_offset) for c, w in region_w.items())
            level /= sum(region_w.values())
            rate = spec.baseline / 60 * level * (change.factor if change else 1.0)
            batch.extend(_users(rng, spec.slug, at, rate, spec.categories, region_w, change))
            flood = abuse.get(spec.slug)
            if flood is not None:
                batch.extend(_flood(rng, spec.slug, at, flood, index, list(regions)))
        batch.sort(key=lambda r: (r.at, r.service, r.client_id))
        for report in batch:
            if start <= report.at - scenario.start < end:
                yield report


def _users(
    rng: np.random.Generator,
    slug: str,
    at: datetime,
    rate: float,
    categories: dict[str, float],
    region_w: dict[str, float],
    change: CrowdChange | None,
) -> Iterator[SimReport]:
    count = int(rng.poisson(rate))
    if count == 0:
        return
    cats, cat_p = _weights(change.categories if change and change.categories else categories)
    regs, reg_p = _weights(region_w)
    surge_texts = list(change.texts) if change else []
    # Draw every attribute of the minute's reports at once (vectorised, same stream).
    seconds = np.sort(rng.uniform(0, 60, count))
    cat_idx = rng.choice(len(cats), size=count, p=cat_p)
    reg_idx = rng.choice(len(regs), size=count, p=reg_p)
    with_text = rng.random(count) < _TEXT_SHARE
    text_pick = rng.random(count)
    blocks = rng.integers(2048, size=count)
    hosts = rng.integers(254, size=count)
    ids = rng.bytes(8 * count).hex()
    for i in range(count):
        category, region = cats[cat_idx[i]], regs[reg_idx[i]]
        text = ""
        if with_text[i]:
            pool = surge_texts or _TEXTS.get(category, _TEXTS["other"])
            text = pool[int(text_pick[i] * len(pool))]
        ip, network = _ip(_USERS, int(reg_idx[i]) * 2048 + int(blocks[i]), int(hosts[i]))
        yield SimReport(
            at=at + timedelta(seconds=float(seconds[i])), service=slug, category=category,
            region=region, text=text, client_id=f"sim-{ids[16 * i:16 * i + 16]}", ip=ip,
            network=network,
        )


def _flood(
    rng: np.random.Generator, slug: str, at: datetime, flood: Abuse, index: int,
    regions: list[str],
) -> Iterator[SimReport]:
    count = int(rng.poisson(flood.rate))
    for second in np.sort(rng.uniform(0, 60, count)):
        who = int(rng.integers(flood.clients))
        ip, network = _ip(_ABUSERS, index * 8 + who % flood.networks, who)
        yield SimReport(
            at=at + timedelta(seconds=float(second)), service=slug, category=flood.category,
            region=flood.region or regions[0], text=flood.text,
            client_id=f"flood-{slug}-{who}", ip=ip, network=network, abuse=True,
        )
