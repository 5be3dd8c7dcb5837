"""`pantau detect FILE.csv`: NAB format in, scores out, each row only from earlier rows."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from pantau.cli import app

PANTAU = str(Path(sys.executable).parent / "pantau")


def _series(path: Path, values: np.ndarray) -> None:
    with path.open("w") as f:
        f.write("timestamp,value\n")
        for i, v in enumerate(values):
            f.write(f"2025-01-{1 + i // 288:02d} {i % 288 // 12:02d}:{i % 12 * 5:02d}:00,{v:.4f}\n")


def test_scores_are_streaming_and_alarm_at_the_shift(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    values = np.concatenate([rng.normal(10, 1, 1500), rng.normal(25, 1, 300)])
    full, half = tmp_path / "full.csv", tmp_path / "half.csv"
    _series(full, values)
    _series(half, values[:1600])
    runner = CliRunner()
    out_full = runner.invoke(app, ["detect", str(full), "--learn", "200"])
    out_half = runner.invoke(app, ["detect", str(half), "--learn", "200"])
    assert out_full.exit_code == 0, out_full.output
    rows = list(csv.DictReader(io.StringIO(out_full.stdout)))
    assert list(rows[0]) == ["timestamp", "value", "anomaly_score", "alarm"]
    assert len(rows) == 1800
    # The first 1600 rows do not depend on what comes after them.
    assert out_half.stdout.splitlines() == out_full.stdout.splitlines()[:1601]
    alarms = [i for i, r in enumerate(rows) if r["alarm"] == "1"]
    # At most a few false alarms on the white noise before: the alarm level takes
    # about one per 700 rows of it, as NAB's costs (a miss = 9 false alarms) favour.
    assert len([i for i in alarms if i < 1500]) <= 3
    assert [i for i in alarms if i >= 1500][:1] in ([1500], [1501], [1502])
    assert all(0.0 <= float(r["anomaly_score"]) <= 1.0 for r in rows)


def test_bad_files_exit_2_with_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("time,val\n1,2\n")
    numbers = tmp_path / "numbers.csv"
    numbers.write_text("timestamp,value\n2025-01-01 00:00:00,abc\n")
    for path, words in ((bad, "header"), (tmp_path / "missing.csv", "No such file"),
                        (numbers, "numbers.csv:2")):
        done = subprocess.run([PANTAU, "detect", str(path)], capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 2
        assert words in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_every_timestamp_is_read_and_a_bad_one_named(tmp_path: Path) -> None:
    bad = tmp_path / "stamps.csv"
    bad.write_text("timestamp,value\n2025-01-01 00:00:00,1\nnot-a-date,2\n")
    for lang, words in (("en_US.UTF-8", "'not-a-date' is not a time"),
                        ("id_ID.UTF-8", "'not-a-date' bukan waktu")):
        done = subprocess.run([PANTAU, "detect", str(bad)], capture_output=True, text=True,
                              timeout=60, env={"LANG": lang, "PATH": "/usr/bin:/bin"})
        assert done.returncode == 2 and "Traceback" not in done.stderr
        assert f"stamps.csv:3: {words}" in done.stderr


def test_a_spreadsheets_file_is_read_as_it_is_meant(tmp_path: Path) -> None:
    # A byte order mark, lines of spaces, and times with and without a zone (as UTC).
    path = tmp_path / "excel.csv"
    lines = ["timestamp,value", "2025-01-01 00:00:00,1", "   ,  ",
             "2025-01-01 00:05:00+00:00,2", "2025-01-01T07:10:00+07:00,3", ""]
    path.write_bytes("\ufeff".encode() + "\r\n".join(lines).encode())
    result = CliRunner().invoke(app, ["detect", str(path)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["value"] for r in rows] == ["1", "2", "3"]


def test_a_value_too_large_to_score_is_named_with_its_line(tmp_path: Path) -> None:
    # Infinite, or so large that the detector's sums of squares overflow: every later
    # score was near 0 after one such row. A missing value (nan, empty) is skipped.
    for value in ("inf", "-1e308", "1e160"):
        path = tmp_path / "large.csv"
        path.write_text(f"timestamp,value\n2025-01-01 00:00:00,nan\n2025-01-01 00:05:00,{value}\n")
        done = subprocess.run([PANTAU, "detect", str(path)], capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
        assert f"large.csv:3: '{value}' cannot be scored" in done.stderr


def test_a_series_is_read_from_a_pipe_as_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "series.csv"
    _series(path, np.random.default_rng(4).normal(10, 1, 400))
    from_file = subprocess.run([PANTAU, "detect", str(path)], capture_output=True, timeout=60)
    (tmp_path / "-").write_text("not this file\n")  # - is standard input all the same
    for name in ("-", "/dev/stdin"):
        piped = subprocess.run([PANTAU, "detect", name], input=path.read_bytes(),
                               capture_output=True, timeout=60, cwd=tmp_path)
        assert piped.returncode == 0, piped.stderr
        assert piped.stdout == from_file.stdout
    assert b"-0.000000" not in from_file.stdout


def test_output_that_cannot_be_written_ends_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "series.csv"
    _series(path, np.random.default_rng(5).normal(10, 1, 3000))
    with open("/dev/full", "wb") as full:
        done = subprocess.run([PANTAU, "detect", str(path)], stdout=full,
                              stderr=subprocess.PIPE, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == ["error: cannot write the output (ENOSPC)"]
    # A reader that stops early (| head) is no error to report.
    reader = subprocess.Popen([PANTAU, "detect", str(path)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE)
    assert reader.stdout is not None and reader.stderr is not None
    reader.stdout.readline()
    reader.stdout.close()
    assert reader.wait(timeout=60) == 1
    assert reader.stderr.read() == b""
    reader.stderr.close()
