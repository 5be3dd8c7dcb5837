"""Store methods for probes: results in batches, monitor states, reads for fusion."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection

from pantau.probes.debounce import MonitorState, MonitorStatus
from pantau.signals import Layer, ProbeVerdict
from pantau.store.base import StoreBase, aware, dialect_insert
from pantau.store.schema.probes import monitor_states, probe_results


def _result_row(v: ProbeVerdict) -> dict[str, Any]:
    return {
        "service": v.service, "monitor": v.monitor, "vantage": v.vantage, "at": v.at,
        "ok": v.ok, "layer": v.layer.value, "cause": v.cause, "cdn": v.cdn,
        "status": v.status, "total_ms": v.total_ms, "reliable": v.reliable,
        "evidence": dict(v.evidence),
    }


def _state_row(s: MonitorState) -> dict[str, Any]:
    return {
        "monitor": s.monitor, "vantage": s.vantage, "service": s.service,
        "state": s.state.value, "since": s.since, "failures": s.failures,
        "successes": s.successes, "last_at": s.last_at, "last_layer": s.last_layer,
        "last_cause": s.last_cause,
    }


class ProbesStoreMixin(StoreBase):
    async def probe_record(
        self, verdicts: Sequence[ProbeVerdict], states: Sequence[MonitorState] = ()
    ) -> None:
        """Write a batch of results and the monitor states they led to, in one commit."""
        results = [_result_row(v) for v in verdicts]
        state_rows = [_state_row(s) for s in states]

        def write(conn: Connection) -> None:
            if results:
                conn.execute(probe_results.insert(), results)
            if state_rows:
                stmt = dialect_insert(conn, monitor_states).values(state_rows)
                keys = {"monitor", "vantage"}
                stmt = stmt.on_conflict_do_update(
                    index_elements=list(keys),
                    set_={c.name: stmt.excluded[c.name] for c in monitor_states.columns
                          if c.name not in keys},
                )
                conn.execute(stmt)

        await self.writer.submit(write)

    async def probe_verdicts(
        self, since: datetime, service: str | None = None, limit: int = 10_000
    ) -> list[ProbeVerdict]:
        """Results at or after `since`, oldest first (for fusion and the status pages)."""

        def read(conn: Connection) -> list[ProbeVerdict]:
            query = select(probe_results).where(probe_results.c.at >= since)
            if service is not None:
                query = query.where(probe_results.c.service == service)
            rows = conn.execute(query.order_by(probe_results.c.at).limit(limit)).mappings()
            return [
                ProbeVerdict(
                    service=r["service"], monitor=r["monitor"], vantage=r["vantage"],
                    at=aware(r["at"]), ok=r["ok"], layer=Layer(r["layer"]), cause=r["cause"],
                    cdn=r["cdn"], status=r["status"], total_ms=r["total_ms"],
                    evidence=r["evidence"], reliable=r["reliable"],
                )
                for r in rows
            ]

        return await self.read(read)

    async def monitor_states(self, service: str | None = None) -> list[MonitorState]:
        def read(conn: Connection) -> list[MonitorState]:
            query = select(monitor_states)
            if service is not None:
                query = query.where(monitor_states.c.service == service)
            rows = conn.execute(query.order_by(monitor_states.c.monitor)).mappings()
            return [
                MonitorState(
                    monitor=r["monitor"], vantage=r["vantage"], service=r["service"],
                    state=MonitorStatus(r["state"]), since=aware(r["since"]),
                    failures=r["failures"], successes=r["successes"],
                    last_at=aware(r["last_at"]), last_layer=r["last_layer"],
                    last_cause=r["last_cause"],
                )
                for r in rows
            ]

        return await self.read(read)

    async def probe_prune(self, before: datetime) -> int:
        """Drop results older than `before` (retention); returns how many went."""

        def write(conn: Connection) -> int:
            gone = conn.execute(
                delete(probe_results).where(probe_results.c.at < before)
                .returning(probe_results.c.id)
            ).all()
            return len(gone)

        return await self.writer.submit(write)
