"""What a running server hands to its background jobs."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from redis.asyncio import Redis

from pantau.catalog import Catalog
from pantau.clock import Clock, SystemClock
from pantau.settings import Settings
from pantau.store import Store


@dataclass
class Runtime:
    settings: Settings
    store: Store
    catalog: Catalog
    clock: Clock = field(default_factory=SystemClock)
    redis: Redis | None = None
    reports_since: datetime | None = None
    """When this process's app began to take reports (set as it starts): a minute since
    then that holds no report was quiet, not unheard, even for a job started later."""


Job = Callable[[Runtime], Coroutine[Any, Any, None]]
"""A background job: loops until cancelled."""
