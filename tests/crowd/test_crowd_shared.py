"""The limits and the gate in Redis decide as they do in one process, in one round trip
for the reports that arrive together, and a Redis that is gone is a clear 503."""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import UTC, date, datetime, timedelta
from ipaddress import ip_address
from zoneinfo import ZoneInfo

import pytest
from redis.asyncio import Redis

from pantau.clock import FrozenClock
from pantau.crowd.gates import Decision, LocalCrowd, MemoryGate
from pantau.crowd.identity import Hasher, origin
from pantau.crowd.ingest import Ingest, RateLimited
from pantau.crowd.limiter import ReportLimiter
from pantau.crowd.rollup import from_counts, rollup
from pantau.crowd.shared import SharedCrowd, SharedStateDown
from pantau.crowd.validate import Category, ReportIn
from pantau.detect.job import REPEATS_WITHIN
from pantau.store import Store
from pantau.store.writer import Overloaded
from tests.crowd.crowd_fixtures import T0, client, crowd_store, free_port, make_app

__all__ = ["crowd_store"]
ADDRESS, NETWORK, VOICES = "6/minute;30/hour", "20/minute", 3


def _reports(seed: int, n: int) -> list[tuple[str, str, str, float]]:
    """(service, address, client id, time): few addresses in few /24s, so that limits and
    voice budgets bite; times that go forward, with some reports at the same instant."""
    rng = random.Random(seed)
    now, out = 0.0, []
    for _ in range(n):
        now += rng.choice([0.0, 0.0, 0.5, 3.0, 20.0])
        address = f"203.0.{rng.randrange(4)}.{rng.randrange(1, 6)}"
        out.append((rng.choice(["chatgpt", "gmail"]), address, f"c{rng.randrange(40)}", now))
    return out


@pytest.mark.redis
async def test_redis_decides_as_one_process_does(redis: Redis) -> None:
    # A secret of its own: keys no earlier run has touched.
    secret = uuid.uuid4().bytes
    local = LocalCrowd(ReportLimiter(ADDRESS, NETWORK), MemoryGate(VOICES))
    shared = [SharedCrowd(redis, ADDRESS, NETWORK, VOICES, secret) for _ in range(2)]
    hasher = Hasher(secret)
    reports = _reports(1, 1500)
    expected, got = [], []
    # Two servers, taking turns by bursts of reports sent at once (one call each).
    for start in range(0, len(reports), 25):
        burst = reports[start : start + 25]
        server = shared[(start // 25) % 2]
        calls = []
        for service, address, client_id, now in burst:
            where = origin(ip_address(address))
            who = hasher.reporter(date(2025, 1, 23), client_id, where)
            expected.append(local.decide(service, where, who, now))
            calls.append(server.decide(service, where, who, now))
        got += await asyncio.gather(*calls)
    assert got == expected
    # The sequence exercised every outcome, not only the easy one.
    assert {Decision(None, True), Decision(None, False)} <= set(got)
    assert any(d.heard is not None for d in got)  # repeats, and when their voice was heard
    assert any(d.wait is not None for d in got)


@pytest.mark.redis
async def test_reports_that_arrive_together_share_one_call(redis: Redis) -> None:
    secret = uuid.uuid4().bytes
    shared = SharedCrowd(redis, "1000/minute", "1000/minute", VOICES, secret)
    hasher = Hasher(secret)

    async def scripts_run() -> int:
        stats = await redis.info("commandstats")
        return sum(stats.get(f"cmdstat_{name}", {}).get("calls", 0) for name in ("eval", "evalsha"))

    before = await scripts_run()
    calls = []
    for i in range(300):
        where = origin(ip_address(f"198.{51 + i // 250}.{i % 250}.1"))  # a /24 each
        calls.append(shared.decide("chatgpt", where, hasher.reporter(T0.date(), None, where),
                                   T0.timestamp()))
    decisions = await asyncio.gather(*calls)
    assert all(d == Decision(None, True) for d in decisions)
    # 300 reports, one script call (two if Redis had to be sent the script first).
    assert await scripts_run() - before <= 2


@pytest.mark.redis
async def test_a_write_queue_full_while_redis_decides_refuses_before_the_gate_hears(
    crowd_store: Store, redis: Redis
) -> None:
    # A queue of one: the first report holds its place while Redis decides, so the
    # second is refused at once. Had both been heard first, the second would be a
    # voice the store never got, and its retry a repeat that does not count.
    secret = uuid.uuid4().bytes
    shared = SharedCrowd(redis, "1000/minute", "1000/minute", VOICES, secret)
    ingest = Ingest(crowd_store, FrozenClock(T0), secret=secret, trusted_proxies=[],
                    crowd=shared)
    crowd_store.MAX_PENDING_REPORTS = 1

    async def send(i: int) -> str:
        return await ingest.submit("chatgpt", ReportIn(Category.APP), client_id=f"client-{i:03d}",
                                   peer=f"198.51.{i}.7", forwarded_for=None)

    first, second = await asyncio.gather(send(1), send(2), return_exceptions=True)
    assert isinstance(first, str) and isinstance(second, Overloaded)
    await send(2)  # the retry the 503 asked for
    voices = await crowd_store.voices_since(T0 - timedelta(minutes=1))
    assert len(voices) == 2
    # A refusal by the limits gives its place back too.
    limited = SharedCrowd(redis, "1/minute", "1000/minute", VOICES, secret)
    ingest = Ingest(crowd_store, FrozenClock(T0), secret=secret, trusted_proxies=[],
                    crowd=limited)
    await send(3)
    with pytest.raises(RateLimited):
        await send(3)
    assert not crowd_store.reports_full()


async def test_an_unreachable_redis_is_a_503_not_an_error(crowd_store: Store) -> None:
    gone = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0")
    shared = SharedCrowd(gone, ADDRESS, NETWORK, VOICES, b"secret")
    where = origin(ip_address("203.0.113.9"))
    with pytest.raises(SharedStateDown):
        await shared.decide("chatgpt", where, Hasher(b"s").reporter(T0.date(), None, where), 0.0)
    # Through the API: a refusal with its code and a Retry-After, and nothing stored.
    async with client(make_app(crowd_store, FrozenClock(T0), gone)) as http:
        r = await http.post("/api/v1/services/chatgpt/reports", json={"category": "app"},
                            headers={"Accept-Language": "id"})
    assert r.status_code == 503 and r.headers["retry-after"] == "5"
    assert r.json()["code"] == "unavailable" and "coba lagi" in r.json()["detail"]
    # The page's form says so in words, in the reader's language.
    async with client(make_app(crowd_store, FrozenClock(T0), gone)) as http:
        page = await http.post("/api/v1/services/chatgpt/reports?lang=id",
                               data={"category": "app"})
    assert page.status_code == 503 and "Laporan tidak dapat dihitung" in page.text
    assert await crowd_store.report_count() == 0
    await gone.aclose()


async def test_a_redis_that_stops_answering_refuses_the_backlog_at_once() -> None:
    # A server that takes the connection and never says a word.
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(-1)
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    mute = Redis.from_url(f"redis://127.0.0.1:{port}/0", socket_timeout=0.5)
    shared = SharedCrowd(mute, ADDRESS, NETWORK, VOICES, b"secret")
    hasher = Hasher(b"s")

    async def one(i: int) -> Decision | SharedStateDown:
        where = origin(ip_address(f"10.{i // 250}.{i % 250}.1"))
        try:
            return await shared.decide("chatgpt", where, hasher.reporter(T0.date(), None, where),
                                       0.0)
        except SharedStateDown as exc:
            return exc

    started = asyncio.get_running_loop().time()
    outcomes = await asyncio.gather(*(one(i) for i in range(1200)))
    # Three calls' worth of reports, refused together when the first call timed out.
    assert all(isinstance(o, SharedStateDown) for o in outcomes)
    assert asyncio.get_running_loop().time() - started < 1.0  # one timeout, not three
    # Right after, a report is refused without waiting for Redis again.
    quick = asyncio.get_running_loop().time()
    assert isinstance(await one(5000), SharedStateDown)
    assert asyncio.get_running_loop().time() - quick < 0.1
    await mute.aclose()
    server.close()
    await server.wait_closed()


@pytest.mark.redis
async def test_redis_counts_a_report_only_if_every_budget_allows_it(redis: Redis) -> None:
    # As in memory: 50 addresses of one /24, whose budget lets 10 through; those the
    # network refuses leave no address counters behind (two windows each).
    secret = uuid.uuid4().bytes
    shared = SharedCrowd(redis, "6/minute;30/hour", "10/minute", VOICES, secret)
    hasher = Hasher(secret)

    wheres = [origin(ip_address(f"198.51.100.{i + 1}")) for i in range(50)]
    # This test's own counters (pantau:limit:<budget>:<key>:<window>): other tests, in
    # other test processes, count in the same Redis meanwhile.
    ours = {shared._key(text) for where in wheres for text in where}

    async def counters() -> int:
        return len([key async for key in redis.scan_iter("pantau:limit:*", count=1000)
                    if key.decode().split(":")[3] in ours])

    before = await counters()
    decisions = []
    for where in wheres:
        who = hasher.reporter(T0.date(), None, where)
        decisions.append(await shared.decide("chatgpt", where, who, T0.timestamp()))
    assert sum(d.wait is None for d in decisions) == 10
    assert await counters() - before == 10 * 2 + 1


async def test_a_repeat_after_midnight_adds_its_details_to_the_voice_before(
    crowd_store: Store,
) -> None:
    await _repeat_after_midnight(crowd_store, None)


@pytest.mark.redis
async def test_a_repeat_after_midnight_adds_its_details_with_redis_deciding(
    crowd_store: Store, redis: Redis
) -> None:
    await _repeat_after_midnight(crowd_store, redis)


async def _repeat_after_midnight(crowd_store: Store, redis: Redis | None) -> None:
    # Stored hashes change with the day; the gate's do not. At 00:05 the repeat of a voice
    # from 23:55 is no new voice, and is stored under the hash of 23:55's day, so the
    # rollup sees whose repeat it is and counts what it adds ("login", its text).
    zone = ZoneInfo("Asia/Jakarta")
    secret = uuid.uuid4().bytes
    crowd: LocalCrowd | SharedCrowd = (
        LocalCrowd(ReportLimiter(ADDRESS, NETWORK), MemoryGate(VOICES))
        if redis is None
        else SharedCrowd(redis, ADDRESS, NETWORK, VOICES, secret)
    )
    midnight = datetime(2025, 1, 24, tzinfo=zone)
    clock = FrozenClock(midnight - timedelta(minutes=5))
    ingest = Ingest(crowd_store, clock, secret=secret, trusted_proxies=[], crowd=crowd, zone=zone)

    async def send(report: ReportIn, client_id: str) -> None:
        await ingest.submit("chatgpt", report, client_id=client_id, peer="198.51.100.7",
                            forwarded_for=None)

    await send(ReportIn(Category.WEBSITE), "client-0001")
    await send(ReportIn(Category.WEBSITE), "client-0002")
    clock.advance(10 * 60)
    await send(ReportIn(Category.LOGIN, text="Error 403 forbidden"), "client-0001")
    await send(ReportIn(Category.APP), "client-0003")  # a new voice, hashed for the new day
    since = (midnight + timedelta(minutes=5)).astimezone(UTC)
    until = since + timedelta(minutes=1)
    rows = await crowd_store.rollup_rows(since, until, REPEATS_WITHIN)
    (minute,) = rollup(rows, since).values()
    assert minute.reporters == 1
    assert minute.categories == {"login": 1, "app": 1}
    assert minute.texts == {"error 403 forbidden": 1}
    # The database's own count agrees.
    assert from_counts(await crowd_store.rollup_counts(since, until, REPEATS_WITHIN)) == {
        ("chatgpt", since): minute
    }
