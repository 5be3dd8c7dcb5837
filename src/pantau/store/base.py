"""The part of the store every domain shares: engine, writer, reads, migrations."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import resources
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, Table, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from pantau.catalog import Catalog
from pantau.store.engine import make_engine, normalise_url
from pantau.store.schema.core import services
from pantau.store.writer import BatchWriter

T = TypeVar("T")
_CATALOG_ROWS = 500
"""Services per INSERT: 3,000 parameters, under SQLite's limit (32,766 since 3.32) and
PostgreSQL's (65,535)."""


def aware(at: datetime) -> datetime:
    """SQLite hands back naive datetimes for timezone-aware columns; all were written as UTC."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def utc(at: datetime) -> datetime:
    """A time for a query, in UTC: SQLite compares the stored text, so a time in another
    zone would be compared by its wall clock. A naive time is taken as UTC."""
    return aware(at).astimezone(UTC)


def dialect_insert(conn: Connection, table: Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT that can take ON CONFLICT clauses: both engines speak them, each in its own
    SQLAlchemy dialect."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


class StoreError(RuntimeError):
    """The database cannot be used; the message is one line for the operator."""


def alembic_config(url: str) -> Config:
    config = Config()
    location = resources.files("pantau.store").joinpath("migrations")
    config.set_main_option("script_location", str(location))
    config.set_main_option("sqlalchemy.url", normalise_url(url))
    return config


class StoreBase:
    def __init__(self, url: str, *, max_queue: int = 10_000) -> None:
        self.url = url
        self.engine: Engine = make_engine(url)
        self.writer = BatchWriter(self.engine, max_queue=max_queue)
        self._reads = 0
        self._reads_changed = threading.Condition()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def check(self) -> None:
        """Connect once, so that a wrong URL or a database that is down fails early."""
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
            raise StoreError(
                f"cannot open database {self.safe_url}: {reason[0] if reason else exc}"
            ) from None

    @property
    def safe_url(self) -> str:
        """The URL with any password hidden, for messages."""
        return self.engine.url.render_as_string(hide_password=True)

    def migrate(self) -> None:
        """Bring the schema to the newest migration."""
        self.check()
        config = alembic_config(self.url)
        with self.engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")

    async def start(self) -> None:
        self.writer.start()

    async def close(self, reads_within: float = 10.0) -> None:
        """Finish the writes taken, and the reads still running (for `reads_within`
        seconds at most), then close the connections."""
        await self.writer.stop()
        # A read whose caller was cancelled still runs in its thread: disposed of under
        # it, its connection was left open (psycopg's ResourceWarning at exit).
        await asyncio.to_thread(self._wait_for_reads, reads_within)
        self.engine.dispose()

    async def read(self, fn: Callable[[Connection], T]) -> T:
        """Run a read-only `fn(conn)` in a worker thread."""
        return await asyncio.to_thread(self._read, fn)

    def _read(self, fn: Callable[[Connection], T]) -> T:
        with self._reads_changed:
            self._reads += 1
        try:
            with self.engine.connect() as conn:
                return fn(conn)
        finally:
            with self._reads_changed:
                self._reads -= 1
                self._reads_changed.notify_all()

    def _wait_for_reads(self, at_most: float) -> None:
        with self._reads_changed:
            self._reads_changed.wait_for(lambda: self._reads == 0, at_most)

    async def sync_catalog(self, catalog: Catalog, now: datetime) -> None:
        """Record every catalog service (rows of services dropped later stay, with history).

        An upsert: several processes starting together (`pantau serve --workers`, or
        servers behind one balancer) each sync the same catalog, and a look-then-insert
        let two of them insert one slug, the second failing its start-up."""

        def write(conn: Connection) -> None:
            rows: list[dict[str, Any]] = [
                {
                    "slug": service.slug,
                    "name": service.name,
                    "category": service.category,
                    "cdn": service.cdn,
                    "definition": service.model_dump(mode="json"),
                    "updated_at": now,
                }
                for service in catalog.services
            ]
            for start in range(0, len(rows), _CATALOG_ROWS):
                stmt = dialect_insert(conn, services).values(rows[start : start + _CATALOG_ROWS])
                changed = {name: stmt.excluded[name] for name in rows[0] if name != "slug"}
                conn.execute(stmt.on_conflict_do_update(index_elements=["slug"], set_=changed))

        await self.writer.submit(write)
