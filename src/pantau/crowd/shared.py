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
salt, since an hour's budget may span midnight) and the gate's keys are the daily
hashes that the reports table stores. One Redis server, or a primary with
replicas; the script builds its keys, so Redis Cluster is not supported.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from collections.abc import Sequence

from limits import parse_many
from redis.asyncio import Redis
from redis.exceptions import RedisError

from pantau.crowd.gates import WINDOW_SECONDS, Decision
from pantau.crowd.identity import Origin, Reporter

log = logging.getLogger(__name__)

BATCH = 500
"""Reports decided in one script call at most: a call holds Redis for its length
(about 20 us a report)."""

# ARGV: gate window, voices, number of limits, then per limit its amount, seconds and
# scope ('a' for the address, 'n' for the network), then one argument per report: its
# time (Unix seconds), service, reporter, network hash, address key and network key,
# spaced. Returns one string, per report 1 (allowed, counted), 0 (allowed, not counted)
# or -w (refused, try again in w seconds), spaced. One argument and one string rather
# than six and a list: redis-py spends about a microsecond on each argument and on each
# element of a reply, in Python.
_SCRIPT = """
local window, voices, nlimits = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local limits, at = {}, 4
for l = 1, nlimits do
  limits[l] = {tonumber(ARGV[at]), tonumber(ARGV[at + 1]), ARGV[at + 2]}
  at = at + 3
end
local out = {}
while at <= #ARGV do
  local now, service, reporter, network, akey, nkey = string.match(ARGV[at],
    '^(%S+) (%S+) (%S+) (%S+) (%S+) (%S+)$')
  now = tonumber(now)
  local keys = {a = akey, n = nkey}
  at = at + 1
  local wait = 0
  for l = 1, nlimits do
    local amount, seconds, scope = limits[l][1], limits[l][2], limits[l][3]
    local index = math.floor(now / seconds)
    local base = 'pantau:limit:' .. amount .. '/' .. seconds .. ':' .. keys[scope] .. ':'
    local count = tonumber(redis.call('GET', base .. index) or '0')
    local before = tonumber(redis.call('GET', base .. (index - 1)) or '0')
    local elapsed = now / seconds - index
    if before * (1 - elapsed) + count + 1 > amount then
      wait = math.max(1, math.ceil((1 - elapsed) * seconds))
      break
    end
    if redis.call('INCR', base .. index) == 1 then
      redis.call('EXPIRE', base .. index, 2 * seconds)
    end
  end
  if wait > 0 then
    out[#out + 1] = -wait
  else
    -- First sightings and a network's window start are times, as in memory, so the
    -- caller's clock decides; EXPIRE only takes the keys away after.
    local seen = 'pantau:gate:seen:' .. service .. ':' .. reporter
    local used = 'pantau:gate:voices:' .. service .. ':' .. network
    local seen_at = redis.call('GET', seen)
    if seen_at and now - tonumber(seen_at) < window then
      out[#out + 1] = 0
    else
      local state = redis.call('HMGET', used, 'since', 'voices')
      local voices_used = 0
      if state[1] and now - tonumber(state[1]) < window then
        voices_used = tonumber(state[2])
      end
      if voices_used >= voices then
        out[#out + 1] = 0
      else
        redis.call('SET', seen, now, 'EX', window + 60)
        if voices_used == 0 then
          redis.call('HSET', used, 'since', now, 'voices', 1)
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


class SharedStateDown(Exception):
    """Redis did not answer: a report can be neither limited nor counted."""


class SharedCrowd:
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
        limits: list[str | int] = []
        for scope, spec in (("a", per_address), ("n", per_network)):
            for item in parse_many(spec):
                limits += [item.amount, item.get_expiry(), scope]
        self._head: Sequence[str | int] = (window, voices, len(limits) // 3, *limits)
        key = hmac.new(secret, b"pantau limit keys", hashlib.sha256).digest()
        self._keyed = hashlib.blake2b(key=key, digest_size=16)
        self._pending: list[tuple[str, asyncio.Future[int]]] = []
        self._sender: asyncio.Task[None] | None = None

    def _key(self, text: str) -> str:
        h = self._keyed.copy()
        h.update(text.encode())
        return h.hexdigest()

    async def decide(self, service: str, where: Origin, who: Reporter, now: float) -> Decision:
        """Take one report from the limits and the gate at `now` (seconds).

        Raises `SharedStateDown` if Redis cannot be reached."""
        report = (f"{now!r} {service} {who.reporter} {who.network} "
                  f"{self._key(where.address)} {self._key(where.network)}")
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._pending.append((report, future))
        sender = self._sender
        if sender is None or sender.done():
            self._sender = asyncio.create_task(self._send())
        outcome = await future
        return Decision(-outcome, False) if outcome < 0 else Decision(None, outcome == 1)

    async def _send(self) -> None:
        """Send what is pending, in calls of at most BATCH reports, until nothing is."""
        while self._pending:
            batch, self._pending = self._pending[:BATCH], self._pending[BATCH:]
            args = [*self._head, *(report for report, _ in batch)]
            try:
                outcomes = (await self._script(args=args)).split()
            except (RedisError, OSError) as exc:
                log.warning("Redis did not decide %d reports: %s", len(batch), exc)
                for _, future in batch:
                    if not future.done():
                        future.set_exception(SharedStateDown(str(exc)))
            else:
                for (_, future), outcome in zip(batch, outcomes, strict=True):
                    if not future.done():
                        future.set_result(int(outcome))
