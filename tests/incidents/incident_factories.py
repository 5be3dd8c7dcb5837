"""Small builders for fusion inputs, so tests read like the situations they describe."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pantau.signals import (
    CrowdMinute,
    CrowdState,
    Layer,
    OfficialIncident,
    OfficialPageState,
    OfficialStatus,
    ProbeVerdict,
)

T0 = datetime(2025, 1, 23, 11, 30, tzinfo=UTC)  # 18:30 WIB
VANTAGES = ("jakarta", "singapore", "frankfurt", "virginia")


def minute(n: int) -> datetime:
    return T0 + timedelta(minutes=n)


def probe(at: datetime, vantage: str, *, ok: bool = True, layer: Layer = Layer.NONE,
          status: int | None = 200, cdn: str | None = "cloudflare", cause: str = "",
          reliable: bool = True, service: str = "chatgpt", monitor: str = "web") -> ProbeVerdict:
    return ProbeVerdict(service=service, monitor=monitor, vantage=vantage, at=at, ok=ok,
                        layer=layer, cause=cause, cdn=cdn, status=status, total_ms=120.0,
                        reliable=reliable)


def all_ok(at: datetime, service: str = "chatgpt") -> list[ProbeVerdict]:
    return [probe(at, v, service=service) for v in VANTAGES]


def cf_502(at: datetime, failing: int = 4, service: str = "chatgpt") -> list[ProbeVerdict]:
    return [
        probe(at, v, ok=False, layer=Layer.ORIGIN, status=502, cause="cloudflare_502",
              service=service) if i < failing else probe(at, v, service=service)
        for i, v in enumerate(VANTAGES)
    ]


def crowd(at: datetime, state: CrowdState = CrowdState.NORMAL, reporters: int = 2,
          alarm: bool = False, categories: dict[str, int] | None = None,
          regions: dict[str, int] | None = None, service: str = "chatgpt",
          texts: dict[str, int] | None = None) -> CrowdMinute:
    return CrowdMinute(service=service, minute=at, reporters=reporters, networks=reporters,
                       expected=3.0, score=0.0 if state is CrowdState.NORMAL else 9.0,
                       state=state, alarm=alarm, categories=categories or {},
                       regions=regions or {}, texts=texts or {})


def official(at: datetime, state: OfficialPageState = OfficialPageState.OPERATIONAL,
             incidents: tuple[OfficialIncident, ...] = (),
             maintenance: tuple[OfficialIncident, ...] = (),
             description: str = "") -> OfficialStatus:
    return OfficialStatus(service="chatgpt", fetched_at=at, page_state=state,
                          description=description, page_url="https://status.example.test/",
                          incidents=incidents, maintenance=maintenance)
