"""Alembic environment: runs on the connection the store hands over."""

from alembic import context

from pantau.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("pantau's migrations run through Store.migrate()")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
