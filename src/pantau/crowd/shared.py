"""The rate limits and the one-voice gate in Redis, shared by every `pantau serve`.

The same rules as in one process (`limiter.ReportLimiter`, `gates.MemoryGate`): a
sliding-window counter per limit, then one voice per reporter per service per 30
minutes and a few per network. Each report's decision is one Lua script, so that
what two servers decide about one reporter at once cannot interleave; and the
reports that arrive while one round trip is out wait for the next, which takes all
of them in one call. With a round trip per rule, and one connection each, a surge
of 256 clients on one server ran the pool out of connections (errors 500) and
held it to 600 reports/s at 1.6 ms of CPU each (bench/ingest.py --redis).

Redis sees no address: limit keys are keyed hashes (with the secret, not the day's
salt, since an hour's budget may span midnight), and so are the gate's
(`identity.Reporter.gate_reporter`, which the reports table does not store). One
Redis server, or a primary with replicas; the script builds its keys, so Redis Cluster
is not supported.

Two limits of the design. The servers' clocks decide the windows, as one process's
clock does in memory, so they must agree (NTP); a clock that steps back a little
is given a little budget back here, not in memory (which counts it at the latest
time). And a call that timed out may still have
run: its reports were refused (503), but their reporters count as heard, and a
retry within the gate's window adds details without a voice.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import math
from collections import deque
from collections.abc import Sequence

from redis.asyncio import Redis
from redis.exceptions import RedisError

from pantau.crowd.gates import WINDOW_SECONDS, Decision
from pantau.crowd.identity import Origin, Reporter
from pantau.crowd.limiter import budgets

log = logging.getLogger(__name__)

BATCH = 500
"""Reports decided in one script call at most: a call holds Redis for its length
(about 20 us a report)."""
MAX_PENDING = 10_000
"""Reports waiting for Redis before more are refused at once (as the write queue's)."""
PAUSE_AFTER_FAILURE = 1.0
"""Seconds during which reports are refused without asking Redis, after it failed."""

# ARGV: gate window, voices, number of limits, then per limit its amount, seconds and
# scope ('a' for the address, 'n' for the network), then one argument per report: its
# time (Unix seconds), service, reporter, network hash, address key and network key,
# spaced. Returns one string, per report 1 (allowed, counted), r<time> (allowed, a repeat
# of the voice counted at that time, as it was sent), 0 (allowed, not counted: its
# network's voices are spent) or -w (refused, try again in w seconds), spaced. One
# argument and one string rather than six and a list: redis-py spends about a
# microsecond on each argument and on each element of a reply, in Python.
_SCRIPT = """
local window, voices, nlimits = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local limits, at = {}, 4
for l = 1, nlimits do
  limits[l] = {tonumber(ARGV[at]), tonumber(ARGV[at + 1]), ARGV[at + 2]}
  at = at + 3
end
local out = {}
while at <= #ARGV do
  local stamp, service, reporter, network, akey, nkey = string.match(ARGV[at],
    '^(%S+) (%S+) (%S+) (%S+) (%S+) (%S+)$')
  local now = tonumber(stamp)
  local keys = {a = akey, n = nkey}
  at = at + 1
  -- Every budget is asked first, and counted only if all allow (as in memory): a
  -- report one refuses takes nothing from the others, nor leaves a key behind.
  local wait, counters = 0, {}
  for l = 1, nlimits do
    local amount, seconds, scope = limits[l][1], limits[l][2], limits[l][3]
    local index = math.floor(now / seconds)
    local base = 'pantau:limit:' .. amount .. '/' .. seconds .. ':' .. keys[scope] .. ':'
    local count = tonumber(redis.call('GET', base .. index) or '0')
    local before = tonumber(redis.call('GET', base .. (index - 1)) or '0')
    local elapsed = now / seconds - index
    if before * (1 - elapsed) + count + 1 > amount then
      -- Until every budget allows it, each as limiter._Window._until_allowed.
      local room, until_ = amount - count - 1, 0
      if room >= 0 then
        until_ = 1 - room / before - elapsed
      elseif amount == 0 then
        until_ = 1 - elapsed
      else
        until_ = 1 - elapsed + math.max(0, 1 - (amount - 1) / count)
      end
      wait = math.max(wait, 1, math.ceil(until_ * seconds - 1e-6))
    else
      counters[l] = {base .. index, 2 * seconds}
    end
  end
  if wait == 0 then
    for _, counter in ipairs(counters) do
      if redis.call('INCR', counter[1]) == 1 then
        redis.call('EXPIRE', counter[1], counter[2])
      end
    end
  end
  if wait > 0 then
    out[#out + 1] = -wait
  else
    -- First sightings and a network's window start are times, as in memory, so the
    -- caller's clock decides; EXPIRE only takes the keys away after. Kept as sent: a
    -- Lua number would be written back with 14 digits, not the caller's time.
    local seen = 'pantau:gate:seen:' .. service .. ':' .. reporter
    local used = 'pantau:gate:voices:' .. service .. ':' .. network
    local seen_at = redis.call('GET', seen)
    if seen_at and now - tonumber(seen_at) < window then
      out[#out + 1] = 'r' .. seen_at
    else
      local state = redis.call('HMGET', used, 'since', 'voices')
      local voices_used = 0
      if state[1] and now - tonumber(state[1]) < window then
        voices_used = tonumber(state[2])
      end
      if voices_used >= voices then
        out[#out + 1] = 0
      else
        redis.call('SET', seen, stamp, 'EX', window + 60)
        if voices_used == 0 then
          redis.call('HSET', used, 'since', stamp, 'voices', 1)
          redis.call('EXPIRE', used, window + 60)
        else
          redis.call('HINCRBY', used, 'voices', 1)
        end
        out[#out + 1] = 1
      end
    end
  end
end
return table.concat(out, ' ')
"""


# ARGV: service, reporter, network hash, and the time the voice was counted at, as sent
# to _SCRIPT. Takes the voice back if it is still that one.
_GIVE_BACK = """
local seen = 'pantau:gate:seen:' .. ARGV[1] .. ':' .. ARGV[2]
if redis.call('GET', seen) == ARGV[4] then
  redis.call('DEL', seen)
  local used = 'pantau:gate:voices:' .. ARGV[1] .. ':' .. ARGV[3]
  if redis.call('HINCRBY', used, 'voices', -1) <= 0 then
    redis.call('DEL', used)
  end
end
"""


class SharedStateDown(Exception):
    """Redis did not answer: a report can be neither limited nor counted."""


class SharedCrowd:
    """Decisions in Redis. One call is out at a time; reports that arrive meanwhile wait
    for the next. When a call fails, every report waiting is refused at once, and so
    is every report for `PAUSE_AFTER_FAILURE` seconds: a Redis that has stopped
    answering would otherwise hold each of them for a whole timeout, one call after
    the other, with no end to the backlog."""

    def __init__(
        self,
        redis: Redis,
        per_address: str,
        per_network: str,
        voices: int,
        secret: bytes,
        window: int = WINDOW_SECONDS,
    ) -> None:
        self._script = redis.register_script(_SCRIPT)
        self._give_back = redis.register_script(_GIVE_BACK)
        limits: list[str | int] = []
        for scope, spec in (("a", per_address), ("n", per_network)):
            for amount, seconds in budgets(spec):
                limits += [amount, seconds, scope]
        self._head: Sequence[str | int] = (window, voices, len(limits) // 3, *limits)
        key = hmac.new(secret, b"pantau limit keys", hashlib.sha256).digest()
        self._keyed = hashlib.blake2b(key=key, digest_size=16)
        self._pending: deque[tuple[str, asyncio.Future[bytes]]] = deque()
        self._sender: asyncio.Task[None] | None = None
        self._down_until = -math.inf

    def _key(self, text: str) -> str:
        h = self._keyed.copy()
        h.update(text.encode())
        return h.hexdigest()

    async def decide(self, service: str, where: Origin, who: Reporter, now: float) -> Decision:
        """Take one report from the limits and the gate at `now` (seconds).

        Raises `SharedStateDown` if Redis cannot be reached, or has just failed, or
        MAX_PENDING reports are waiting for it already."""
        loop = asyncio.get_running_loop()
        if loop.time() < self._down_until:
            raise SharedStateDown("Redis failed a moment ago")
        if len(self._pending) >= MAX_PENDING:
            raise SharedStateDown("too many reports are waiting for Redis")
        report = (f"{now!r} {service} {who.gate_reporter} {who.gate_network} "
                  f"{self._key(where.address)} {self._key(where.network)}")
        future: asyncio.Future[bytes] = loop.create_future()
        self._pending.append((report, future))
        sender = self._sender
        if sender is None or sender.done():
            self._sender = asyncio.create_task(self._send())
        outcome = await future
        if outcome[:1] == b"r":
            return Decision(None, False, float(outcome[1:]))
        n = int(outcome)
        return Decision(-n, False) if n < 0 else Decision(None, n == 1)

    async def give_back(self, service: str, who: Reporter, now: float) -> None:
        """Take back the voice `decide` counted at `now` for `who`, whose report was not
        stored after all: its retry is to count. Its rate-limit budget stays spent. If
        Redis cannot be told, the voice holds for its window, as after a timeout."""
        try:
            await self._give_back(args=[service, who.gate_reporter, who.gate_network, repr(now)])
        except RedisError as exc:
            log.warning("Redis did not take back a voice whose report was not stored: %s", exc)

    async def _send(self) -> None:
        """Send what is pending, in calls of at most BATCH reports, until nothing is."""
        pending = self._pending
        while pending:
            batch = [pending.popleft() for _ in range(min(BATCH, len(pending)))]
            try:
                reply = await self._script(args=[*self._head, *(r for r, _ in batch)])
                outcomes: list[bytes] = reply.split()
                if len(outcomes) != len(batch):
                    raise RedisError(f"{len(outcomes)} answers for {len(batch)} reports")
            except BaseException as exc:
                # Whatever went wrong (Redis, the connection, a cancelled server), nobody
                # is left waiting: this call's reports and every one queued behind it.
                batch.extend(pending)
                pending.clear()
                self._down_until = asyncio.get_running_loop().time() + PAUSE_AFTER_FAILURE
                log.warning("Redis did not decide %d reports: %s", len(batch), exc)
                for _, future in batch:
                    if not future.done():
                        future.set_exception(SharedStateDown(str(exc) or type(exc).__name__))
                if not isinstance(exc, Exception):
                    raise
                return
            for (_, future), outcome in zip(batch, outcomes, strict=True):
                if not future.done():
                    future.set_result(outcome)
