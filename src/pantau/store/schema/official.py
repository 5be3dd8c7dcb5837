"""Official status pages: their current state, their errors, and the incident archive.

Pages are keyed by URL rather than by service: several services often share one page.
The archive keeps every incident and update the first time it is seen, because the
pages themselves only keep their last 50.
"""

from sqlalchemy import JSON, Boolean, Column, DateTime, Index, Integer, String, Table, Text

from pantau.store.schema.base import metadata

official_pages = Table(
    "official_pages",
    metadata,
    Column("url", String(500), primary_key=True),
    Column("kind", String(20), nullable=False),
    # The last snapshot read (`pantau.official.serialize`), kept when polls fail.
    Column("snapshot", JSON),
    Column("checked_at", DateTime(timezone=True), nullable=False),
    Column("last_success_at", DateTime(timezone=True)),
    Column("failures", Integer, nullable=False, server_default="0"),
    Column("last_error", Text),
    Column("last_error_id", Text),
    Column("last_error_kind", String(20)),
    Column("last_error_at", DateTime(timezone=True)),
)

official_page_errors = Table(
    "official_page_errors",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("url", String(500), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("status", Integer),
    Column("message", Text, nullable=False),
    Column("message_id", Text, nullable=False),
    Index("ix_official_page_errors_url_at", "url", "at"),
)

official_incidents = Table(
    "official_incidents",
    metadata,
    Column("page_url", String(500), primary_key=True),
    Column("incident_id", String(200), primary_key=True),
    Column("title", Text, nullable=False),
    Column("status", String(40), nullable=False),
    Column("impact", String(20)),
    Column("is_maintenance", Boolean, nullable=False),
    Column("url", Text),
    Column("components", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("first_post_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("resolved_at", DateTime(timezone=True)),
    Column("scheduled_for", DateTime(timezone=True)),
    Column("scheduled_until", DateTime(timezone=True)),
    Column("first_seen_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    Index("ix_official_incidents_page_first_post", "page_url", "first_post_at"),
)

official_updates = Table(
    "official_updates",
    metadata,
    Column("page_url", String(500), primary_key=True),
    Column("incident_id", String(200), primary_key=True),
    # One status at one instant is one post, whether the page gave it an id or not
    # (the incident.io widget does not; the history documents do).
    Column("at", DateTime(timezone=True), primary_key=True),
    Column("status", String(40), primary_key=True),
    Column("key", String(200), nullable=False),
    Column("body", Text, nullable=False),
    Column("components", JSON, nullable=False),
    Column("first_seen_at", DateTime(timezone=True), nullable=False),
)
