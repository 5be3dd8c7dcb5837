"""Per-minute rollups of stored reports: what the detector and the pages count."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from pantau.store.reports import ReportRow

TOP_TEXTS = 5


@dataclass(slots=True)
class Rollup:
    """One service's minute. Only counted reports (new voices) are included, so a
    reporter repeating themselves, or a flood from one network, adds nothing."""

    reporters: int = 0
    networks: set[str] = field(default_factory=set)
    categories: Counter[str] = field(default_factory=Counter)
    regions: Counter[str] = field(default_factory=Counter)
    texts: Counter[str] = field(default_factory=Counter)

    def top_texts(self) -> dict[str, int]:
        return dict(self.texts.most_common(TOP_TEXTS))


def minute_of(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


def rollup(rows: Iterable[ReportRow]) -> dict[tuple[str, datetime], Rollup]:
    out: dict[tuple[str, datetime], Rollup] = {}
    for row in rows:
        if not row.counted:
            continue
        r = out.setdefault((row.service, minute_of(row.at)), Rollup())
        r.reporters += 1
        r.networks.add(row.network)
        r.categories[row.category] += 1
        if row.region:
            r.regions[row.region] += 1
        if row.text_norm:
            r.texts[row.text_norm] += 1
    return out
