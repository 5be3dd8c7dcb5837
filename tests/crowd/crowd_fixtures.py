"""A real store with the crowd mixin on both backends, and an app around it."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis

from pantau.catalog import Catalog
from pantau.clock import FrozenClock
from pantau.runtime import Runtime
from pantau.settings import load_settings
from pantau.store import Store
from pantau.store.schema import metadata
from pantau.web.app import create_app

T0 = datetime(2025, 1, 23, 11, 0, tzinfo=UTC)



async def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    if request.param == "sqlite":
        instance = Store(f"sqlite:///{tmp_path}/pantau.db")
        instance.migrate()
    else:
        instance = Store(request.getfixturevalue("postgres_url"))
        with instance.engine.begin() as conn:
            for table in reversed(metadata.sorted_tables):
                conn.execute(table.delete())
    await instance.start()
    return instance


@pytest.fixture(params=["sqlite", "postgresql"])
async def crowd_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    instance = await open_store(request, tmp_path)
    yield instance
    await instance.close()


def make_app(
    store: Store, clock: FrozenClock, redis: Redis | None = None, **settings: Any
) -> FastAPI:
    runtime = Runtime(
        settings=load_settings(trusted_proxies="127.0.0.1/32", **settings),
        store=store,
        catalog=Catalog.default(),
        clock=clock,
        redis=redis,
    )
    return create_app(runtime)


def free_port() -> int:
    """A port nothing listens on (bound then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def client(app: FastAPI, peer: str = "127.0.0.1") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(peer, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://pantau.test")
