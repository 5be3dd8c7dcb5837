"""Where the real PostgreSQL and Redis servers for tests are, and what to do without them."""

from __future__ import annotations

import os

import pytest

POSTGRES_ADMIN = os.environ.get(
    "PANTAU_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("PANTAU_TEST_REDIS", "redis://127.0.0.1:6379/15")
REQUIRE_SERVICES = os.environ.get("PANTAU_REQUIRE_SERVICES") == "1"


def unavailable(what: str, reason: object) -> None:
    """Skip on a developer's machine; fail in CI, where the service must be up."""
    message = f"{what} is not reachable ({reason})"
    if REQUIRE_SERVICES:
        pytest.fail(f"{message}; PANTAU_REQUIRE_SERVICES=1 makes this a failure")
    pytest.skip(message)
