"""`pantau detect FILE.csv`: score a `timestamp,value` series (NAB's format) as a stream.

Writes `timestamp,value,anomaly_score,alarm` to stdout. Each row is scored only
from the rows before it, exactly as the live detector would see it.
"""

from __future__ import annotations

import csv
import math
import sys
from datetime import datetime
from pathlib import Path

import typer

from pantau.detect.values import ValueDetector, learning_rows, rows_per_day


def _read(path: Path) -> list[tuple[str, float]]:
    from pantau.cli import CliError

    try:
        with path.open(newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            if header is None or [h.strip().lower() for h in header[:2]] != ["timestamp", "value"]:
                raise CliError(f"{path}: the first line must be the header timestamp,value", 2)
            rows = []
            for n, row in enumerate(reader, start=2):
                if not row:
                    continue
                try:
                    rows.append((row[0], float(row[1]) if row[1].strip() else math.nan))
                except (IndexError, ValueError):
                    raise CliError(f"{path}:{n}: expected timestamp,number", 2) from None
            return rows
    except OSError as exc:
        raise CliError(f"{path}: {exc.strerror}", 2) from None
    except UnicodeDecodeError:
        raise CliError(f"{path}: not a UTF-8 text file", 2) from None


def _stamps(rows: list[tuple[str, float]]) -> list[datetime]:
    out = []
    for stamp, _ in rows[:51]:
        try:
            out.append(datetime.fromisoformat(stamp))
        except ValueError:
            return []
    return out


def register(app: typer.Typer) -> None:
    @app.command()
    def detect(
        file: Path = typer.Argument(..., help="CSV with a header timestamp,value."),
        learn: int | None = typer.Option(
            None, min=0, help="Rows before any alarm (default: 15 % of the file, at most 750)."
        ),
    ) -> None:
        """Score a timestamp,value CSV as a stream: timestamp,value,anomaly_score,alarm."""
        rows = _read(file)
        detector = ValueDetector(
            learn=learning_rows(len(rows)) if learn is None else learn,
            period=rows_per_day(_stamps(rows)),
        )
        out = csv.writer(sys.stdout, lineterminator="\n")
        out.writerow(["timestamp", "value", "anomaly_score", "alarm"])
        for stamp, value in rows:
            score = detector.update(value)
            out.writerow([stamp, f"{value:g}", f"{score.score:.6f}", int(score.alarm)])
