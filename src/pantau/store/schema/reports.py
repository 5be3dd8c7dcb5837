"""Crowd reports (raw, kept for the retention period) and the detector's per-minute rows."""

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

reports = Table(
    "reports",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("service", String(63), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    # Keyed hashes that change every day (pantau.crowd.identity); never an address.
    Column("reporter", String(32), nullable=False),
    Column("network", String(32), nullable=False),
    Column("category", String(16), nullable=False),
    Column("region", String(10)),
    Column("text", String(280)),
    Column("text_norm", String(80)),
    # False for a repeat within 30 minutes, or past the network's voice budget.
    Column("counted", Boolean, nullable=False),
    Index("ix_reports_service_at", "service", "at"),
    Index("ix_reports_at", "at"),
)

crowd_minutes = Table(
    "crowd_minutes",
    metadata,
    Column("service", String(63), primary_key=True),
    Column("minute", DateTime(timezone=True), primary_key=True),
    Column("reporters", Integer, nullable=False),
    Column("networks", Integer, nullable=False),
    # Distinct networks of the last 10 and 30 minutes, this one included: what the
    # detector's network rule saw, so a restart replays it exactly.
    Column("networks_10m", Integer, nullable=False),
    Column("networks_30m", Integer, nullable=False),
    Column("expected", Float, nullable=False),
    Column("score", Float, nullable=False),
    Column("state", String(10), nullable=False),
    Column("alarm", Boolean, nullable=False),
    Column("categories", JSON, nullable=False),
    Column("regions", JSON, nullable=False),
    Column("texts", JSON, nullable=False),
    Index("ix_crowd_minutes_minute", "minute"),
)
