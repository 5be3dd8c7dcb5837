"""Fuse crowd, probes and the official page into one service state for one minute.

Pure: the caller hands in the detector's latest minute, the recent probe verdicts and the
official status; nothing here reads a clock, the network or the database.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from pantau.incidents.attribute import (
    attribute,
    cause_text,
    counts_as_failure,
    latest_verdicts,
    official_words,
    vantage_boxes,
)
from pantau.incidents.model import Assessment, Scope
from pantau.signals import (
    CrowdMinute,
    CrowdState,
    Layer,
    OfficialPageState,
    OfficialStatus,
    ProbeVerdict,
    ServiceState,
    Text,
    counted,
)

# Crowd categories that point at one feature rather than the whole service.
FEATURE_CATEGORIES = ("login", "app")
SPREAD_WINDOW = timedelta(minutes=10)
"""The span of `CrowdMinute.networks_10m`."""


@dataclass(frozen=True, slots=True)
class FusionConfig:
    min_failing_vantages: int = 2
    """Reliable vantage points that must fail before probes alone count as an outage
    (lowered to the number of vantage points when fewer exist)."""
    outage_share: float = 0.5
    """Failing share of reliable vantage points from which it is an outage, not degraded."""
    probe_freshness: timedelta = timedelta(minutes=5)
    crowd_freshness: timedelta = timedelta(minutes=3)
    official_freshness: timedelta = timedelta(minutes=15)
    region_share: float = 0.8
    """Share of region-tagged reports from one region that makes a problem regional."""
    region_min_reports: int = 5
    crowd_window: timedelta = timedelta(minutes=15)
    """How far back regions and categories are counted."""
    surge_window: timedelta = timedelta(minutes=5)
    surge_ratio: float = 2.0
    surge_excess: float = 3.0
    """A detected crowd counts only while the last `surge_window` holds at least
    `surge_ratio` times the expected reports and `surge_excess` more than expected."""
    amber_minutes: int = 10
    amber_spread: float = 0.8
    """See `_strong_amber`: amber minutes (within `crowd_window`) and networks per reporter
    an amber crowd needs."""
    feature_share: float = 0.6
    """Share of login/app reports that makes a crowd-only problem feature-specific."""


def official_maintenance(official: OfficialStatus | None, now: datetime) -> bool:
    if official is None or official.stale or official.error:
        return False
    if official.page_state is OfficialPageState.MAINTENANCE:
        return True
    for m in official.maintenance:
        if m.status == "in_progress":
            return True
        if (m.status not in ("completed", "resolved") and m.scheduled_for is not None
                and m.scheduled_for <= now
                and (m.scheduled_until is None or now < m.scheduled_until)):
            return True
    return False


def _official_usable(official: OfficialStatus | None, now: datetime,
                     config: FusionConfig) -> OfficialStatus | None:
    if official is None or official.stale or official.error:
        return None
    if now - official.fetched_at > config.official_freshness:
        return None
    return official


def _window(crowd: CrowdMinute, recent: Sequence[CrowdMinute], field: str,
            config: FusionConfig) -> Counter[str]:
    """Counts of `field` over the recent window: one minute holds too few reports."""
    total: Counter[str] = Counter(getattr(crowd, field))
    for m in recent:
        if m.minute != crowd.minute and crowd.minute - m.minute <= config.crowd_window:
            total.update(getattr(m, field))
    return total


def _surging(crowd: CrowdMinute, recent: Sequence[CrowdMinute], config: FusionConfig) -> bool:
    """Are people still reporting far above normal right now? The detector's state clears
    slowly on purpose (its long scales remember the outage); the verdict must not."""
    minutes = [crowd, *(m for m in recent if m.minute != crowd.minute
                        and crowd.minute - m.minute < config.surge_window)]
    observed = sum(m.reporters for m in minutes)
    expected = sum(m.expected for m in minutes)
    return observed >= config.surge_ratio * expected and observed - expected >= config.surge_excess


def _strong_amber(crowd: CrowdMinute, recent: Sequence[CrowdMinute],
                  config: FusionConfig) -> bool:
    """An amber crowd that has lasted, from as many networks as reporters.

    The detector withholds "detected" until many more distinct networks than usual
    report within ten or thirty minutes, which a small service may never reach; amber
    minute after minute, with reports spread over as many networks as reporters (so not
    one flood), is enough."""
    if crowd.state is not CrowdState.POSSIBLE:
        return False
    minutes = [crowd, *(m for m in recent if m.minute != crowd.minute
                        and crowd.minute - m.minute < config.crowd_window)]
    amber = sum(m.state is not CrowdState.NORMAL for m in minutes)
    # Distinct networks (a network reporting every minute is one), over the ten
    # minutes they are counted for.
    reporters = sum(m.reporters for m in minutes if crowd.minute - m.minute < SPREAD_WINDOW)
    return (amber >= config.amber_minutes and reporters > 0
            and crowd.networks_10m / reporters >= config.amber_spread)


def _dominant_region(regions: Counter[str], config: FusionConfig) -> str | None:
    total = sum(regions.values())
    if total < config.region_min_reports or len(regions) == 0:
        return None
    region, count = max(regions.items(), key=lambda kv: (kv[1], kv[0]))
    return region if count / total >= config.region_share else None


def _feature(categories: Counter[str], config: FusionConfig) -> str | None:
    total = sum(categories.values())
    if total == 0:
        return None
    for cat in FEATURE_CATEGORIES:
        if categories.get(cat, 0) / total >= config.feature_share:
            return cat
    return None


def _crowd_evidence(crowd: CrowdMinute) -> Text:
    # "In one minute", not "in the last minute": an incident keeps the evidence of its
    # worst phase, and its page is read long after that minute.
    usual = f"{crowd.expected:.1f}" if crowd.expected < 10 else f"{crowd.expected:.0f}"
    return Text(
        f"{counted(crowd.reporters, 'person', 'people')} reported problems in one minute "
        f"(about {usual} expected)",
        f"{crowd.reporters} orang melaporkan masalah dalam satu menit "
        f"(biasanya sekitar {usual.replace('.', ',')})",
    )


def fuse(service: str, now: datetime, crowd: CrowdMinute | None,
         probes: Sequence[ProbeVerdict], official: OfficialStatus | None,
         cdn: str | None = None, config: FusionConfig = FusionConfig(),
         crowd_recent: Sequence[CrowdMinute] = ()) -> Assessment:
    """`crowd` is the detector's latest minute; `crowd_recent` the minutes before it, over
    which regions and categories are counted."""
    fresh = [v for v in probes if now - v.at <= config.probe_freshness and v.at <= now]
    verdicts = latest_verdicts(fresh)
    boxes = vantage_boxes(verdicts, cdn)
    reliable = [b for b in boxes if b.reliable]
    failing_rows = [b for b in reliable if not b.ok and b.layer is not Layer.BLOCKED]
    failing_vantages = {b.vantage for b in failing_rows}
    failing = [v for v in verdicts
               if v.reliable and counts_as_failure(v) and v.vantage in failing_vantages]
    n, f = len(reliable), len(failing_rows)
    needed = min(config.min_failing_vantages, n) if n else 1
    probes_down = n > 0 and f >= needed
    attribution = attribute(failing, cdn) if failing else None

    if crowd is not None and not (timedelta(0) <= now - crowd.minute <= config.crowd_freshness):
        crowd = None
    surging = crowd is not None and _surging(crowd, crowd_recent, config)
    crowd_red = crowd is not None and surging and (
        crowd.state is CrowdState.DETECTED or _strong_amber(crowd, crowd_recent, config))
    off = _official_usable(official, now, config)
    maintenance = official_maintenance(off, now)

    evidence: list[Text] = []
    if attribution is not None and probes_down:
        evidence.append(attribution.evidence)
    if n:
        evidence.append(Text(
            f"probes fail from {f} of {n} reliable vantage points",
            f"probe gagal dari {f} dari {n} titik pantau yang andal",
        ))
    if crowd is not None and crowd.state is not CrowdState.NORMAL:
        evidence.append(_crowd_evidence(crowd))
    if off is not None and off.page_state is not OfficialPageState.OPERATIONAL:
        evidence.append(Text(
            f"the official status page says: {official_words(off).en}",
            f"halaman status resmi menyebut: {official_words(off).id}",
        ))

    base = Assessment(
        service=service, at=now, state=ServiceState.OPERATIONAL, layer=Layer.NONE,
        scope=Scope.NONE, failing_vantages=f, reliable_vantages=n,
        crowd_reporters=crowd.reporters if crowd else 0,
        crowd_expected=crowd.expected if crowd else 0.0,
        crowd_alarm=bool(crowd and crowd.alarm), probes_down=probes_down,
        official_state=off.page_state.value if off else None, boxes=tuple(boxes),
        evidence=tuple(evidence),
        categories=dict(crowd.categories) if crowd else {},
        regions=dict(crowd.regions) if crowd else {},
        texts=dict(crowd.texts) if crowd else {},
    )

    probe_layer = attribution.layer if attribution else None
    if maintenance or (probes_down and probe_layer is Layer.MAINTENANCE):
        return replace(base, state=ServiceState.MAINTENANCE, layer=Layer.MAINTENANCE,
                       scope=Scope.EVERYONE if probes_down else Scope.PARTIAL,
                       cause=cause_text(Layer.MAINTENANCE, cdn))

    # A regional pattern counts from the first amber minute: a cut-off provider's customers
    # rarely reach the national alarm level, and the service is fine for everyone else.
    region = (_dominant_region(_window(crowd, crowd_recent, "regions", config), config)
              if crowd is not None and crowd.state is not CrowdState.NORMAL and surging
              else None)
    if probes_down and attribution is not None:
        if region is not None and f < n and f / n < config.outage_share:
            return _regional(region, base)
        state = ServiceState.OUTAGE if f / n >= config.outage_share else ServiceState.DEGRADED
        scope = Scope.EVERYONE if state is ServiceState.OUTAGE else Scope.PARTIAL
        return replace(base, state=state, layer=attribution.layer, scope=scope,
                       cause=attribution.cause)

    if region is not None:
        return _regional(region, base)
    if crowd_red and crowd is not None:
        feature = _feature(_window(crowd, crowd_recent, "categories", config), config)
        cause = _FEATURE_CAUSES.get(feature or "", _CROWD_ONLY)
        return replace(base, state=ServiceState.DEGRADED, layer=Layer.APP, scope=Scope.PARTIAL,
                       cause=cause, feature=feature)

    if off is not None and off.page_state in (OfficialPageState.MAJOR_OUTAGE,
                                           OfficialPageState.PARTIAL_OUTAGE,
                                           OfficialPageState.DEGRADED):
        major = off.page_state is OfficialPageState.MAJOR_OUTAGE
        return replace(base, state=ServiceState.OUTAGE if major else ServiceState.DEGRADED,
                       layer=Layer.APP, scope=Scope.EVERYONE if major else Scope.PARTIAL,
                       cause=_OFFICIAL_ONLY)

    cut = sorted(b.vantage for b in boxes if not b.reliable)
    if cut:
        # Our own vantage point lost its network: whoever shares it is cut off too.
        names = ", ".join(cut)
        return replace(base, layer=Layer.CLIENT, scope=Scope.REGION, region=names, cause=Text(
            f"the network of vantage point {names} is itself cut off: people there cannot "
            f"reach anything, the service is fine elsewhere",
            f"jaringan titik pantau {names} sendiri terputus: orang di sana tidak dapat "
            f"menjangkau apa pun, layanannya normal di tempat lain"))

    if n == 0 and crowd is None and off is None:
        return replace(base, state=ServiceState.UNKNOWN)
    return base


def _regional(region: str, base: Assessment) -> Assessment:
    cause = Text(
        f"problems come only from {region}: most likely a local internet provider, "
        f"not the service",
        f"masalah hanya datang dari {region}: kemungkinan besar penyedia internet setempat, "
        f"bukan layanannya",
    )
    # The service itself works: its state stays operational, the layer says where it fails.
    return replace(base, state=ServiceState.OPERATIONAL, layer=Layer.CLIENT, scope=Scope.REGION,
                   region=region, cause=cause)


_FEATURE_CAUSES = {
    "login": Text("logging in fails although the website loads",
                  "login gagal meskipun situs webnya terbuka"),
    "app": Text("the app fails although the website works",
                "aplikasinya gagal meskipun situs webnya berjalan"),
}
_CROWD_ONLY = Text("many people report problems that our probes do not see",
                   "banyak orang melaporkan masalah yang tidak terlihat oleh probe kami")
_OFFICIAL_ONLY = Text("the vendor reports a problem on its status page",
                      "penyedia melaporkan gangguan di halaman statusnya")
