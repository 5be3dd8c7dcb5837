"""One voice per reporter per 30 minutes; a few voices per network; rate limits."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from ipaddress import ip_address

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from pantau.crowd.gates import CountGate, MemoryGate, RedisGate
from pantau.crowd.identity import origin
from pantau.crowd.limiter import ReportLimiter
from tests.services import REDIS_URL, unavailable


async def test_memory_gate_dedupes_for_thirty_minutes() -> None:
    gate = MemoryGate(voices=3)
    assert await gate.admit("chatgpt", "r1", "n1", 0.0)
    assert not await gate.admit("chatgpt", "r1", "n1", 0.0)
    assert await gate.admit("gmail", "r1", "n1", 0.0)  # another service counts separately
    assert not await gate.admit("chatgpt", "r1", "n1", 29 * 60)
    assert await gate.admit("chatgpt", "r1", "n1", 30 * 60 + 1)


async def test_memory_gate_caps_voices_per_network() -> None:
    gate = MemoryGate(voices=3)
    admitted = [await gate.admit("chatgpt", f"r{i}", "n1", 0.0) for i in range(10)]
    assert admitted == [True] * 3 + [False] * 7
    assert await gate.admit("chatgpt", "r99", "n2", 0.0)


def test_memory_gate_admits_without_awaiting_and_expires_by_its_front() -> None:
    gate = MemoryGate(voices=2, window=100.0)
    assert gate.admit_now("chatgpt", "r1", "n1", 0.0)
    assert gate.admit_now("chatgpt", "r2", "n1", 50.0)
    assert not gate.admit_now("chatgpt", "r3", "n1", 99.0)  # n1's budget: 2 per window
    # r1 and n1's window (both from 0) are over; r2 (from 50) still counts once.
    assert gate.admit_now("chatgpt", "r3", "n1", 100.0)
    assert not gate.admit_now("chatgpt", "r2", "n1", 149.0)
    assert gate.admit_now("chatgpt", "r2", "n2", 150.0)  # r2's sighting expired at 150
    # Everything expired, both tables empty: the next entries are the fronts again.
    assert gate.admit_now("chatgpt", "r1", "n1", 1000.0)
    assert not gate.admit_now("chatgpt", "r1", "n1", 1099.0)
    assert gate.admit_now("chatgpt", "r1", "n1", 1100.0)
    # A clock that steps back: entries still expire in the order they were first seen.
    assert not gate.admit_now("chatgpt", "r1", "n1", 1050.0)
    assert gate.admit_now("chatgpt", "r9", "n9", 1040.0)
    assert not gate.admit_now("chatgpt", "r9", "n9", 1140.0)  # behind r1, not yet expired
    assert gate.admit_now("chatgpt", "r9", "n9", 1200.0)


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except (RedisConnectionError, OSError) as exc:
        await client.aclose()
        unavailable("Redis", exc)
    yield client
    await client.aclose()


@pytest.mark.redis
async def test_redis_gate_shares_the_rules(redis: Redis) -> None:
    service = f"svc-{uuid.uuid4().hex[:8]}"
    gates: list[CountGate] = [RedisGate(redis, voices=2), RedisGate(redis, voices=2)]
    # Two processes: the second sees what the first counted.
    assert await gates[0].admit(service, "r1", "n1", 0.0)
    assert not await gates[1].admit(service, "r1", "n1", 0.0)
    assert await gates[1].admit(service, "r2", "n1", 0.0)
    assert not await gates[0].admit(service, "r3", "n1", 0.0)
    ttl = await redis.ttl(f"pantau:crowd:r:{service}:r1")
    assert 0 < ttl <= 30 * 60


async def test_limiter_per_address_and_per_network() -> None:
    limiter = ReportLimiter("3/minute", "5/minute")
    a = origin(ip_address("203.0.113.1"))
    assert [await limiter.check(a, 0.0) for _ in range(3)] == [None] * 3
    wait = await limiter.check(a, 0.0)
    assert wait is not None and 1 <= wait <= 60
    # Other addresses in the same /24 share the network's budget of 5.
    results = [await limiter.check(origin(ip_address(f"203.0.113.{i}")), 0.0) for i in range(2, 6)]
    assert results[:1] == [None] and all(r is not None for r in results[2:])
    assert await limiter.check(origin(ip_address("198.51.100.1")), 0.0) is None


@pytest.mark.redis
async def test_limiter_on_redis_is_shared(redis: Redis) -> None:
    h = uuid.uuid4().hex  # a fresh /48, so earlier runs' budgets in Redis do not count
    a = origin(ip_address(f"fd{h[:2]}:{h[2:6]}:{h[6:10]}::1"))
    other = Redis.from_url(REDIS_URL)
    first = ReportLimiter("2/minute", "100/minute", redis)
    second = ReportLimiter("2/minute", "100/minute", other)
    assert await first.check(a, 0.0) is None
    assert await second.check(a, 0.0) is None
    assert await first.check(a, 0.0) is not None
    await other.aclose()
