"""How reports reach the table: the rows as inserted, and the batch insert of a group commit."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from itertools import chain, repeat
from typing import Any, NamedTuple

from sqlalchemy.engine import Dialect

from pantau.store.schema.reports import reports


class NewReport(NamedTuple):
    """One report as inserted: a tuple whose fields name the table's columns, so that a
    batch goes to the driver as it is."""

    id: str
    service: str
    at: datetime
    reporter: str
    network: str
    category: str
    region: str | None
    text: str | None
    text_norm: str | None
    counted: bool



_AT = NewReport._fields.index("at")


class ReportInsert:
    """The batch insert for one dialect: one INSERT with many rows of VALUES.

    The driver's own statement on plain tuples: SQLAlchemy's per-row parameter
    processing cost ~15 us a report, more than the rest of the ingest path together;
    and one statement for many rows, not executemany, because sqlite3 lets go of the
    GIL around each row's step, and getting it back from the busy event loop took the
    writer's thread longer than the insert itself (bench/ingest.py). Conversions are
    still SQLAlchemy's, from the column types (on SQLite the time becomes the text
    every other query compares against).
    """

    ROWS = 500
    """Rows per statement at most: 5,000 parameters, under every driver's limit."""

    def __init__(self, dialect: Dialect) -> None:
        self._marker = "?" if dialect.paramstyle == "qmark" else "%s"
        self._convert: list[tuple[int, Callable[[Any], Any]]] = []
        for i, name in enumerate(NewReport._fields):
            column_type = reports.c[name].type
            process = column_type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                self._convert.append((i, process))
        self._convert_at = dict(self._convert).get(_AT)
        self._sql: dict[int, str] = {}

    def _statement(self, rows: int) -> str:
        sql = self._sql.get(rows)
        if sql is None:
            names = ", ".join(NewReport._fields)
            row = "(" + ", ".join([self._marker] * len(NewReport._fields)) + ")"
            # Every name is the schema's own (NewReport's fields); no input reaches this text.
            sql = f"INSERT INTO {reports.name} ({names}) VALUES {', '.join([row] * rows)}"  # noqa: S608
            self._sql[rows] = sql
        return sql

    def run(self, cursor: Any, batch: Sequence[NewReport], at: datetime | None = None) -> None:
        """Insert `batch`, every row stored at `at` if given (else at its own time)."""
        stored_at: Any = at
        if at is not None and self._convert_at is not None:
            stored_at = self._convert_at(at)  # one conversion for them all
        for start in range(0, len(batch), self.ROWS):
            rows = batch[start : start + self.ROWS]
            columns: list[Iterable[Any]] = list(zip(*rows, strict=True))
            for i, process in self._convert:
                columns[i] = map(process, columns[i])
            if at is not None:
                columns[_AT] = repeat(stored_at, len(rows))
            flat = list(chain.from_iterable(zip(*columns, strict=True)))
            cursor.execute(self._statement(len(rows)), flat)
