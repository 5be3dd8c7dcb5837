"""Probe results (one row per check) and each monitor's debounced state."""

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    String,
    Table,
)

from pantau.store.schema.base import metadata

probe_results = Table(
    "probe_results",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("service", String(63), nullable=False),
    Column("monitor", String(300), nullable=False),
    Column("vantage", String(63), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("layer", String(20), nullable=False),
    Column("cause", String(40), nullable=False),
    Column("cdn", String(20)),
    Column("status", Integer),
    Column("total_ms", Float),
    # False when this vantage point was itself cut off while it probed.
    Column("reliable", Boolean, nullable=False),
    # The classifier's evidence, including the phase timings.
    Column("evidence", JSON, nullable=False),
    Index("ix_probe_results_service_at", "service", "at"),
    Index("ix_probe_results_at", "at"),
)

monitor_states = Table(
    "monitor_states",
    metadata,
    Column("monitor", String(300), primary_key=True),
    Column("vantage", String(63), primary_key=True),
    Column("service", String(63), nullable=False),
    # up / down / unknown, after debouncing (thresholds of consecutive results).
    Column("state", String(10), nullable=False),
    Column("since", DateTime(timezone=True), nullable=False),
    Column("failures", Integer, nullable=False),
    Column("successes", Integer, nullable=False),
    Column("last_at", DateTime(timezone=True), nullable=False),
    Column("last_layer", String(20), nullable=False),
    Column("last_cause", String(40), nullable=False),
)
