"""Two servers sharing Redis enforce one dedupe and one rate limit (scaling out)."""

from __future__ import annotations

import uuid

import pytest
from fastapi import FastAPI
from redis.asyncio import Redis

from pantau.catalog import Catalog
from pantau.clock import FrozenClock
from pantau.runtime import Runtime
from pantau.settings import load_settings
from pantau.store import Store
from pantau.web.app import create_app
from tests.crowd.crowd_fixtures import T0, client, crowd_store

__all__ = ["crowd_store"]
URL = "/api/v1/services/chatgpt/reports"


def _server(store: Store, redis: Redis) -> FastAPI:
    settings = load_settings(trusted_proxies="127.0.0.1/32", report_limit_address="3/minute")
    runtime = Runtime(settings=settings, store=store, catalog=Catalog.default(),
                      clock=FrozenClock(T0), redis=redis)
    return create_app(runtime)


@pytest.mark.redis
async def test_two_servers_share_dedupe_and_limits(crowd_store: Store, redis: Redis) -> None:
    a, b = _server(crowd_store, redis), _server(crowd_store, redis)
    h = uuid.uuid4().hex  # a fresh /48 and client id, whatever earlier runs left in Redis
    headers = {"X-Pantau-Client": f"cid-{h}", "X-Forwarded-For": f"fd{h[:2]}:{h[2:6]}:{h[6:10]}::1"}
    async with client(a) as http_a, client(b) as http_b:
        codes = [
            (await http.post(URL, json={"category": "app"}, headers=headers)).status_code
            for http in (http_a, http_b, http_a, http_b)
        ]
    assert codes == [202, 202, 202, 429]
    rows = await crowd_store.report_rows(T0, T0.replace(hour=12))
    assert [r.counted for r in rows] == [True, False, False]
