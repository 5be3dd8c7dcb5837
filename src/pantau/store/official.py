"""Store methods for official status pages: current state, error log, incident archive."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from pantau.official.errors import PageError
from pantau.official.model import Incident, PageKind, PageSnapshot
from pantau.official.serialize import snapshot_dict, snapshot_from_dict
from pantau.store.base import StoreBase, aware, dialect_insert
from pantau.store.schema.official import (
    official_incidents,
    official_page_errors,
    official_pages,
    official_updates,
)


@dataclass(frozen=True, slots=True)
class PageRecord:
    url: str
    kind: PageKind
    snapshot: PageSnapshot | None
    checked_at: datetime
    last_success_at: datetime | None
    failures: int
    last_error: str | None
    last_error_id: str | None
    last_error_at: datetime | None


@dataclass(frozen=True, slots=True)
class PageErrorRecord:
    url: str
    at: datetime
    kind: str
    status: int | None
    message: str
    message_id: str


@dataclass(frozen=True, slots=True)
class ArchiveCount:
    incidents: int
    updates: int


_ROWS_PER_STATEMENT = 500


def _insert_ignoring_duplicates(conn: Connection, table: Any, rows: list[dict[str, Any]]) -> int:
    """Insert rows whose key is new; an existing row is the first sighting and stays.

    A long history (thousands of updates on a first read) is split into statements
    each driver's limit on bound values allows."""
    inserted = 0
    for start in range(0, len(rows), _ROWS_PER_STATEMENT):
        stmt = dialect_insert(conn, table).values(rows[start : start + _ROWS_PER_STATEMENT])
        stmt = stmt.on_conflict_do_nothing()
        # RETURNING counts what was inserted on both engines (rowcount does not on psycopg).
        inserted += len(conn.execute(stmt.returning(*table.primary_key.columns)).all())
    return inserted


def _archive(
    conn: Connection, url: str, incidents: Sequence[Incident], at: datetime
) -> ArchiveCount:
    new_incidents = new_updates = 0
    for inc in incidents:
        row = {
            "title": inc.title,
            "status": inc.status,
            "impact": inc.impact.value if inc.impact else None,
            "url": inc.url,
            "components": list(inc.components),
            "updated_at": inc.updated_at,
            "resolved_at": inc.resolved_at,
            "scheduled_for": inc.scheduled_for,
            "scheduled_until": inc.scheduled_until,
            "last_seen_at": at,
        }
        key = (official_incidents.c.page_url == url) & (official_incidents.c.incident_id == inc.id)
        known = conn.execute(select(official_incidents.c.first_post_at).where(key)).scalar()
        if known is None:
            conn.execute(
                official_incidents.insert().values(
                    page_url=url,
                    incident_id=inc.id,
                    is_maintenance=inc.is_maintenance,
                    created_at=inc.created_at,
                    first_post_at=inc.first_post_at,
                    first_seen_at=at,
                    **row,
                )
            )
            new_incidents += 1
        else:
            # A later document may show an earlier post than the one first seen (the
            # widget shows only the latest post; the history shows them all).
            conn.execute(
                official_incidents.update()
                .where(key)
                .values(first_post_at=min(aware(known), inc.first_post_at), **row)
            )
        new_updates += _insert_ignoring_duplicates(
            conn,
            official_updates,
            [
                {
                    "page_url": url,
                    "incident_id": inc.id,
                    "key": u.key,
                    "status": u.status,
                    "body": u.body,
                    "at": u.at,
                    "components": list(u.components),
                    "first_seen_at": at,
                }
                for u in inc.updates
            ],
        )
    return ArchiveCount(new_incidents, new_updates)


class OfficialStoreMixin(StoreBase):
    async def official_record_poll(
        self,
        url: str,
        kind: PageKind,
        at: datetime,
        snapshot: PageSnapshot | None,
        *,
        error: PageError | None = None,
        failures: int = 0,
        archive: bool = True,
    ) -> ArchiveCount:
        """Record one poll: the page's state, its error if any, and (when the page was
        read afresh) every incident and update not archived before. One transaction."""

        def write(conn: Connection) -> ArchiveCount:
            values: dict[str, Any] = {
                "kind": kind.value,
                "checked_at": at,
                "failures": failures,
            }
            # A page never read in this process has no snapshot to give; the stored one
            # is then the last known state and stays.
            if snapshot is not None:
                values["snapshot"] = snapshot_dict(snapshot)
            if error is None:
                values["last_success_at"] = at
            else:
                values |= {
                    "last_error": error.message,
                    "last_error_id": f"{error.url}: {error.text.id}",
                    "last_error_kind": error.kind.value,
                    "last_error_at": at,
                }
                conn.execute(
                    official_page_errors.insert().values(
                        url=url,
                        at=at,
                        kind=error.kind.value,
                        status=error.status,
                        message=error.message,
                        message_id=f"{error.url}: {error.text.id}",
                    )
                )
            exists = conn.execute(
                select(official_pages.c.url).where(official_pages.c.url == url)
            ).first()
            if exists:
                conn.execute(
                    official_pages.update().where(official_pages.c.url == url).values(values)
                )
            else:
                conn.execute(official_pages.insert().values(url=url, **values))
            if snapshot is None or error is not None or not archive:
                return ArchiveCount(0, 0)
            return _archive(conn, url, [*snapshot.incidents, *snapshot.maintenances], at)

        return await self.writer.submit(write)

    async def official_page(self, url: str) -> PageRecord | None:
        def read(conn: Connection) -> PageRecord | None:
            row = conn.execute(select(official_pages).where(official_pages.c.url == url)).first()
            if row is None:
                return None
            m = row._mapping
            snapshot = snapshot_from_dict(m["snapshot"]) if m["snapshot"] else None
            if snapshot is not None and m["failures"]:
                snapshot = replace(snapshot, stale=True, error=m["last_error"])
            return PageRecord(
                url=m["url"],
                kind=PageKind(m["kind"]),
                snapshot=snapshot,
                checked_at=aware(m["checked_at"]),
                last_success_at=aware(m["last_success_at"]) if m["last_success_at"] else None,
                failures=m["failures"],
                last_error=m["last_error"],
                last_error_id=m["last_error_id"],
                last_error_at=aware(m["last_error_at"]) if m["last_error_at"] else None,
            )

        return await self.read(read)

    async def official_errors(self, url: str, limit: int = 20) -> list[PageErrorRecord]:
        def read(conn: Connection) -> list[PageErrorRecord]:
            t = official_page_errors
            rows = conn.execute(
                select(t).where(t.c.url == url).order_by(t.c.at.desc(), t.c.id.desc()).limit(limit)
            )
            return [
                PageErrorRecord(r.url, aware(r.at), r.kind, r.status, r.message, r.message_id)
                for r in rows
            ]

        return await self.read(read)

    async def official_first_posts(
        self, url: str, since: datetime, until: datetime
    ) -> list[datetime]:
        """When the vendor first posted each (non-maintenance) incident in the window."""

        def read(conn: Connection) -> list[datetime]:
            t = official_incidents
            rows = conn.scalars(
                select(t.c.first_post_at)
                .where(
                    (t.c.page_url == url)
                    & ~t.c.is_maintenance
                    & (t.c.first_post_at >= since)
                    & (t.c.first_post_at <= until)
                )
                .order_by(t.c.first_post_at)
            )
            return [aware(at) for at in rows]

        return await self.read(read)

    async def official_archive(self, url: str, limit: int = 100) -> list[dict[str, Any]]:
        """Archived incidents of a page, newest first, each with its updates."""

        def read(conn: Connection) -> list[dict[str, Any]]:
            t, u = official_incidents, official_updates
            incidents = conn.execute(
                select(t).where(t.c.page_url == url).order_by(t.c.first_post_at.desc()).limit(limit)
            ).all()
            out: list[dict[str, Any]] = []
            for inc in incidents:
                updates = conn.execute(
                    select(u.c.key, u.c.status, u.c.body, u.c.at)
                    .where((u.c.page_url == url) & (u.c.incident_id == inc.incident_id))
                    .order_by(u.c.at)
                ).all()
                out.append(
                    {
                        "id": inc.incident_id,
                        "title": inc.title,
                        "status": inc.status,
                        "is_maintenance": inc.is_maintenance,
                        "first_post_at": aware(inc.first_post_at),
                        "first_seen_at": aware(inc.first_seen_at),
                        "updates": [
                            {"key": x.key, "status": x.status, "body": x.body, "at": aware(x.at)}
                            for x in updates
                        ],
                    }
                )
            return out

        return await self.read(read)
