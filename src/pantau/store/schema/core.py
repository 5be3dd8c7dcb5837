"""Tables shared by every domain: services, probe agents, subscriptions."""

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
)

from pantau.store.schema.base import metadata

services = Table(
    "services",
    metadata,
    Column("slug", String(63), primary_key=True),
    Column("name", String(80), nullable=False),
    Column("category", String(40), nullable=False, server_default="other"),
    Column("cdn", String(40)),
    Column("definition", JSON, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

agents = Table(
    "agents",
    metadata,
    Column("id", String(63), primary_key=True),
    Column("name", String(80), nullable=False),
    Column("region", String(10)),
    Column("token_hash", String(128), nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True)),
)

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("service", String(63), ForeignKey("services.slug", ondelete="CASCADE"),
           nullable=False, index=True),
    Column("target", Text, nullable=False),
    Column("language", String(5), nullable=False, server_default="en"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_sent_at", DateTime(timezone=True)),
)
