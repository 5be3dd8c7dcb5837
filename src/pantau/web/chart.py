"""The 24-hour chart of problem reports against the expected level, as inline SVG.

Server-rendered so that it works without JavaScript and needs no asset from anywhere:
reports as a filled line, the expected level dashed, the fused state as a strip below,
hour ticks in the reader's zone, and a text description for screen readers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from html import escape

from babel.numbers import format_compact_decimal

from pantau.incidents.timefmt import clock_time
from pantau.signals import ServiceState, Text
from pantau.store.incidents import MinuteRow

WIDTH, HEIGHT, PLOT_H, STRIP_H = 720, 190, 140, 10
LEFT, TOP = 36, 8
BUCKET = timedelta(minutes=5)
SPAN = timedelta(hours=24)
_STATE_COLOURS = {
    ServiceState.OUTAGE: "#b00020",
    ServiceState.DEGRADED: "#b86e00",
    ServiceState.MAINTENANCE: "#5a4ea3",
    ServiceState.OPERATIONAL: "#2e7d32",
    ServiceState.UNKNOWN: "#c8c8c8",
}
_SEVERITY = {ServiceState.UNKNOWN: 0, ServiceState.OPERATIONAL: 1,
             ServiceState.MAINTENANCE: 2, ServiceState.DEGRADED: 3, ServiceState.OUTAGE: 4}


def report_chart(rows: Sequence[MinuteRow], now: datetime, tz: tzinfo, lang: str) -> str:
    start = now - SPAN
    n = int(SPAN / BUCKET)
    reports = [0.0] * n
    expected = [0.0] * n
    states = [ServiceState.UNKNOWN] * n
    for r in rows:
        i = int((r.at - start) / BUCKET)
        if 0 <= i < n:
            reports[i] += r.reporters
            expected[i] += r.expected
            if _SEVERITY[r.state] > _SEVERITY[states[i]]:
                states[i] = r.state
    top = max(max(reports), max(expected), 1.0) * 1.1
    plot_w = WIDTH - LEFT - 4
    step = plot_w / n

    def x(i: int) -> float:
        return LEFT + i * step

    def y(v: float) -> float:
        return TOP + PLOT_H - v / top * PLOT_H

    line = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(reports))
    area = f"{x(0):.1f},{y(0):.1f} {line} {x(n - 1):.1f},{y(0):.1f}"
    exp_line = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(expected))
    strip_y = TOP + PLOT_H + 4
    strip = "".join(
        f'<rect x="{x(i):.1f}" y="{strip_y}" width="{step + 0.3:.1f}" height="{STRIP_H}" '
        f'fill="{_STATE_COLOURS[s]}"/>' for i, s in enumerate(states))
    ticks = []
    for at in hour_ticks(start, tz):
        offset = (at - start) / BUCKET
        label = clock_time(at, tz).get(lang).split(" ")[0]
        ticks.append(f'<text x="{x(0) + offset * step:.1f}" y="{HEIGHT - 2}" '
                     f'text-anchor="middle">{escape(label)}</text>')
    peak_i = max(range(n), key=lambda i: reports[i])
    labels = _labels(reports[peak_i], clock_time(start + peak_i * BUCKET, tz, now),
                     expected[peak_i])
    title, desc = labels[0].get(lang), labels[1].get(lang)
    legend_r, legend_e = labels[2].get(lang), labels[3].get(lang)
    return (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="chart-title chart-desc" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="chart-title">{escape(title)}</title>'
        f'<desc id="chart-desc">{escape(desc)}</desc>'
        f'<g font-size="11" fill="#4a4a4a">'
        f'<text x="2" y="{TOP + 10}">{escape(_short(top / 1.1, lang))}</text>'
        f'<text x="2" y="{TOP + PLOT_H}">0</text>{"".join(ticks)}</g>'
        f'<line x1="{LEFT}" y1="{y(0):.1f}" x2="{WIDTH - 4}" y2="{y(0):.1f}" '
        f'stroke="#767676"/>'
        f'<polygon points="{area}" fill="#b00020" fill-opacity="0.18"/>'
        f'<polyline points="{line}" fill="none" stroke="#b00020" stroke-width="1.5"/>'
        f'<polyline points="{exp_line}" fill="none" stroke="#1a1a1a" stroke-width="1.2" '
        f'stroke-dasharray="4 3"/>{strip}'
        f'<g font-size="11"><text x="{LEFT + 6}" y="{TOP + 12}" fill="#b00020">'
        f'{escape(legend_r)}</text><text x="{LEFT + 6}" y="{TOP + 26}" fill="#1a1a1a">'
        f'{escape(legend_e)}</text></g></svg>'
    )


def _short(value: float, lang: str) -> str:
    """A count short enough for the axis left of the plot: 1.2K, 45 rb, 10M; a surge's
    eight digits ran over the plot."""
    return format_compact_decimal(round(value), format_type="short", locale=lang,
                                  fraction_digits=1)


def hour_ticks(start: datetime, tz: tzinfo, every: int = 3) -> list[datetime]:
    """The instants of the 24 hours after `start` when the reader's clock shows a whole hour
    divisible by `every`.

    Stepping through real time rather than adding hours to a local time: across a
    change to or from summer time, wall-clock arithmetic lands on hours that do not
    exist or happen twice, and the label no longer matches where the tick is drawn.
    """
    # Every zone's offset, and every change of it, is a whole number of quarter hours.
    quarter = 15 * 60
    at = datetime.fromtimestamp(-(-start.timestamp() // quarter) * quarter, UTC)
    ticks = []
    while at < start + SPAN:
        local = at.astimezone(tz)
        if local.minute == 0 and local.hour % every == 0:
            ticks.append(at)
        at += timedelta(seconds=quarter)
    return ticks


def _labels(peak: float, peak_at: Text, expected: float) -> tuple[Text, Text, Text, Text]:
    return (
        Text("Problem reports in the last 24 hours", "Laporan masalah dalam 24 jam terakhir"),
        Text(f"Reports per 5 minutes. The highest was {peak:.0f} at {peak_at.en}, when about "
             f"{expected:.0f} were expected. The strip below shows the state: green working, "
             f"orange problems, red outage, purple maintenance, grey unknown.",
             f"Laporan per 5 menit. Tertinggi {peak:.0f} pada {peak_at.id}, saat biasanya "
             f"sekitar {expected:.0f}. Pita di bawah menunjukkan status: hijau normal, oranye "
             f"bermasalah, merah down, ungu pemeliharaan, abu-abu tidak diketahui."),
        Text("— reports", "— laporan"),
        Text("- - expected level", "- - tingkat biasa"),
    )
