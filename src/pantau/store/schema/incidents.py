"""Incident fusion's tables: current state per service, incidents, their events, links."""

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from pantau.store.schema.base import metadata

service_state = Table(
    "service_state",
    metadata,
    Column("service", String(63), primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("state", String(20), nullable=False),
    Column("layer", String(20), nullable=False),
    Column("incident_id", String(120)),
    # The full fused assessment (evidence, probe boxes): see `pantau.incidents.codec`.
    Column("assessment", JSON, nullable=False),
)

incidents = Table(
    "incidents",
    metadata,
    Column("id", String(120), primary_key=True),
    Column("service", String(63), index=True),
    Column("shared_id", String(120), index=True),
    Column("state", String(20), nullable=False),
    Column("worst_state", String(20), nullable=False),
    Column("layer", String(20), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False, index=True),
    Column("resolved_at", DateTime(timezone=True), index=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("data", JSON, nullable=False),
)

incident_events = Table(
    "incident_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("incident_id", String(120), ForeignKey("incidents.id", ondelete="CASCADE"),
           nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("state", String(20), nullable=False),
    Column("layer", String(20), nullable=False),
    Column("text_en", Text, nullable=False),
    Column("text_id", Text, nullable=False),
)

incident_links = Table(
    "incident_links",
    metadata,
    Column("shared_id", String(120), ForeignKey("incidents.id", ondelete="CASCADE"),
           nullable=False),
    Column("incident_id", String(120), ForeignKey("incidents.id", ondelete="CASCADE"),
           nullable=False),
    Column("linked_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("shared_id", "incident_id"),
)

# One row per service and minute: the state strip and the report chart of the service page,
# kept by fusion itself so that pages need no other domain's tables.
service_minutes = Table(
    "service_minutes",
    metadata,
    Column("service", String(63), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("state", String(20), nullable=False),
    Column("layer", String(20), nullable=False),
    Column("reporters", Integer, nullable=False),
    Column("expected", Float, nullable=False),
    # {"categories": {...}, "regions": {...}, "texts": {...}} of that minute.
    Column("crowd", JSON, nullable=False),
    PrimaryKeyConstraint("service", "at"),
)
