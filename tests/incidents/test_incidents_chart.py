"""The report chart's hour ticks sit where the reader's clock shows the hour they are labelled."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from pantau.signals import Layer, ServiceState
from pantau.store.incidents import MinuteRow
from pantau.web.chart import BUCKET, LEFT, SPAN, WIDTH, report_chart

TICK = re.compile(r'<text x="([\d.]+)" y="\d+" text-anchor="middle">(\d\d)[:.](\d\d)</text>')


@pytest.mark.parametrize(("zone", "now"), [
    ("Europe/Berlin", datetime(2026, 3, 29, 12, 0, tzinfo=UTC)),      # clocks jump 02:00 → 03:00
    ("Europe/Berlin", datetime(2026, 10, 25, 12, 0, tzinfo=UTC)),     # 03:00 → 02:00 again
    ("America/New_York", datetime(2026, 3, 8, 20, 7, tzinfo=UTC)),
    ("Asia/Kathmandu", datetime(2026, 5, 1, 9, 20, tzinfo=UTC)),      # UTC+5:45
    ("Asia/Jakarta", datetime(2026, 5, 1, 9, 20, tzinfo=UTC)),
])
@pytest.mark.parametrize("lang", ["en", "id"])
def test_each_tick_is_drawn_at_the_time_it_names(zone: str, now: datetime, lang: str) -> None:
    tz = ZoneInfo(zone)
    svg = report_chart([], now, tz, lang)
    start, per_pixel = now - SPAN, BUCKET * int(SPAN / BUCKET) / (WIDTH - LEFT - 4)
    ticks = TICK.findall(svg)
    assert 7 <= len(ticks) <= 9
    for x, hour, minute in ticks:
        drawn_at = start + per_pixel * (float(x) - LEFT)
        # Pixels are rounded to a tenth, a few seconds of time; rounded in UTC, where
        # adding seconds cannot fall into a gap of the local clock.
        shown = (drawn_at + timedelta(seconds=30)).replace(second=0, microsecond=0).astimezone(tz)
        assert (f"{shown:%H}", f"{shown:%M}") == (hour, minute)
        assert int(hour) % 3 == 0 and minute == "00"


@pytest.mark.parametrize(("lang", "label"), [("en", "10M"), ("id", "10\u00a0jt")])
def test_a_surges_count_fits_left_of_the_plot(lang: str, label: str) -> None:
    now = datetime(2026, 5, 1, 9, 20, tzinfo=UTC)
    surge = MinuteRow(now - timedelta(minutes=30), ServiceState.OUTAGE, Layer.ORIGIN,
                      10_000_000, 50.0, {}, {}, {})
    svg = report_chart([surge], now, ZoneInfo("Asia/Jakarta"), lang)
    axis = re.findall(r'<text x="2" y="\d+">([^<]*)</text>', svg)
    assert axis == [label, "0"]
