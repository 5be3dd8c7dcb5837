"""Fixtures shared by every test area.

PostgreSQL and Redis are real servers. On a developer's machine without them, their tests
skip with the reason; with PANTAU_REQUIRE_SERVICES=1 (CI) they fail instead.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from pantau.store import Store
from pantau.store.schema import metadata
from tests.services import POSTGRES_ADMIN, REDIS_URL, unavailable


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test session."""
    name = f"pantau_test_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        admin.dispose()
        unavailable("PostgreSQL", str(exc.orig).strip().splitlines()[0])
    url = POSTGRES_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    migrated = Store(url)
    migrated.migrate()
    migrated.engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _empty_tables(store: Store) -> None:
    with store.engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """A started, migrated, empty store on each backend."""
    if request.param == "sqlite":
        instance = Store(f"sqlite:///{tmp_path}/pantau.db")
        instance.migrate()
    else:
        instance = Store(request.getfixturevalue("postgres_url"))
        _empty_tables(instance)
    await instance.start()
    yield instance
    await instance.close()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/pantau.db"


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    """A client of the real Redis server (tests keep to keys of their own)."""
    instance = Redis.from_url(REDIS_URL)
    try:
        await instance.ping()
    except (RedisConnectionError, OSError) as exc:
        await instance.aclose()
        unavailable("Redis", exc)
    yield instance
    await instance.aclose()
