"""`pantau detect FILE.csv`: score a `timestamp,value` series (NAB's format) as a stream.

Writes `timestamp,value,anomaly_score,alarm` to stdout. Each row is scored only
from the rows before it, exactly as the live detector would see it; as NAB does, the
length of the file sets the learning period (15 %, at most 750 rows) and the spacing
of the first timestamps the daily period. `-` (or a pipe) is read from standard input.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import io
import math
import os
import sys
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import typer

from pantau.cli.server_api import reader_language
from pantau.detect.values import PERIOD_FROM_ROWS, ValueDetector, learning_rows, rows_per_day
from pantau.signals import Text

_BAD = {
    "header": Text("the first line must be the header timestamp,value",
                   "baris pertama harus berupa kepala timestamp,value"),
    "row": Text("expected timestamp,number", "seharusnya timestamp,angka"),
    "stamp": Text("{stamp!r} is not a time (ISO 8601, such as 2014-04-01 00:00:00)",
                  "{stamp!r} bukan waktu (ISO 8601, misalnya 2014-04-01 00:00:00)"),
    "utf8": Text("not a UTF-8 text file", "bukan berkas teks UTF-8"),
    "write": Text("cannot write the output ({error})", "tidak dapat menulis keluaran ({error})"),
    "value": Text("{value!r} cannot be scored: a value must be finite and at most 1e100 in size",
                  "{value!r} tidak dapat dinilai: nilai harus terhingga dan paling besar 1e100"),
}
MAX_VALUE = 1e100
"""Larger values (or infinite ones) overflow the detector's sums of squares: one such row
left every later score near 0, a surge of 100,000 times included."""


def _is_stdin(path: Path) -> bool:
    return str(path) == "-"


@contextlib.contextmanager
def _opened(path: Path) -> Iterator[io.TextIOBase]:
    # utf-8-sig: a spreadsheet's byte order mark is not part of the header.
    if _is_stdin(path):
        stream = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8-sig", newline="")
        try:
            yield stream
        finally:
            stream.detach()  # standard input stays open, for the next reading
    else:
        with path.open(newline="", encoding="utf-8-sig") as f:
            yield f


def _rows(path: Path) -> Iterator[tuple[str, float, datetime]]:
    """The file's rows, read as they come: (timestamp as written, value, time in UTC)."""
    from pantau.cli import CliError

    def refuse(key: str, line: int | None = None, **params: object) -> CliError:
        where = f"{path}:{line}" if line else f"{path}"
        words = _BAD[key].get(reader_language(""))
        return CliError(f"{where}: {words.format(**params)}", 2)

    try:
        with _opened(path) as f:
            reader = csv.reader(f)
            header = next(reader, None)
            if header is None or [h.strip().lower() for h in header[:2]] != ["timestamp", "value"]:
                raise refuse("header")
            for n, row in enumerate(reader, start=2):
                if not any(cell.strip() for cell in row):
                    continue
                try:
                    value = float(row[1]) if row[1].strip() else math.nan
                except (IndexError, ValueError):
                    raise refuse("row", n) from None
                if abs(value) > MAX_VALUE:  # NaN is a missing value, as an empty cell
                    raise refuse("value", n, value=row[1].strip())
                try:
                    at = datetime.fromisoformat(row[0].strip())
                except ValueError:
                    raise refuse("stamp", n, stamp=row[0]) from None
                # A time without a zone is read as UTC, so a file mixing both still has
                # one order of time.
                yield row[0], value, at.replace(tzinfo=UTC) if at.tzinfo is None else at
    except OSError as exc:
        raise CliError(f"{path}: {exc.strerror}", 2) from None
    except UnicodeDecodeError:
        raise refuse("utf8") from None


def register(app: typer.Typer) -> None:
    @app.command()
    def detect(
        file: Path = typer.Argument(..., help="CSV with a header timestamp,value."),
        learn: int | None = typer.Option(
            None, min=0, help="Rows before any alarm (default: 15 % of the file, at most 750)."
        ),
    ) -> None:
        """Score a timestamp,value CSV as a stream: timestamp,value,anomaly_score,alarm.

        FILE may be - for standard input."""
        # A file is read twice, holding no rows: once to check every row and count them
        # (NAB's learning period is a share of the file), once to score them as they
        # come. A pipe can be read once only: its rows are held.
        twice = file.is_file() and not _is_stdin(file)
        rows: Iterable[tuple[str, float, datetime]] = (
            _rows(file) if twice else list(_rows(file)))
        total, first = 0, list[datetime]()
        for _, _, at in rows:
            total += 1
            if len(first) < PERIOD_FROM_ROWS:
                first.append(at)
        detector = ValueDetector(
            learn=learning_rows(total) if learn is None else learn,
            period=rows_per_day(first),
        )
        _write(detector, _rows(file) if twice else rows)


def _write(detector: ValueDetector, rows: Iterable[tuple[str, float, datetime]]) -> None:
    from pantau.cli import CliError

    try:
        out = csv.writer(sys.stdout, lineterminator="\n")
        out.writerow(["timestamp", "value", "anomaly_score", "alarm"])
        for stamp, value, _ in rows:
            score = detector.update(value)
            # + 0.0: a score of -0.0 is written 0.000000.
            out.writerow([stamp, f"{value:g}", f"{score.score + 0.0:.6f}", int(score.alarm)])
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader stopped (`| head`): nothing more to say, and nothing for Python to
        # complain about when it flushes at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise SystemExit(1) from None
    except OSError as exc:
        words = _BAD["write"].get(reader_language(""))
        raise CliError(words.format(error=errno.errorcode.get(exc.errno or 0, exc.errno)), 1) \
            from None
