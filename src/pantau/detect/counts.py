"""Streaming detector for per-minute counts of distinct reporters (the crowd signal).

Each minute: the expected count comes from the seasonal baseline; the observed
sums over the last 1, 3, 10 and 30 minutes are tested against the expected sums
with a negative-binomial upper tail. A sharp surge shows in the 1-minute sum; a
gentle one (×2, ×3 on a quiet service) only in the longer sums. The dispersion
has three parts: the extra spread of this service's counts, learnt from normal
minutes; the doubt of a baseline that rests on few reports (the Gamma-Poisson
posterior predictive) or on a time of day not seen yet, so a new service is
judged cautiously instead of not at all; and, in the tails only, what is not yet
known of today's level, largest when the day begins (days stand apart from the level
the day before ended with by a spread learnt over weeks, and a day shows what it is
like only as its minutes come, to windows that begin after them; the day is the
minutes' own, in PANTAU_CROWD_TIMEZONE in the job).
The baseline learns a normal minute only once it has left every window it is tested
in, so a surge not detected yet does not raise the expectation it is measured against
in its first half hour; one that goes on undetected is learnt after that like any
minute (capped).

The baseline is a week's average, and today's level is not: a busy news day, a
quiet holiday, a time of day the baseline has not learnt well run 20 % or more
above or below it for hours. Against the baseline alone, a ×3 surge on a day at
60 % looks like ×1.8, inside the learnt spread. So each window's expected sum is
the baseline's times a local level: how the recent normal minutes, before the
window, stood against the baseline (a Gamma-Poisson estimate whose prior is the
baseline's spread, so an hour of few reports moves it little), times how much of
such a deviation is seen to last into the next ten minutes or half hour, as long
as the window (learnt by regression, as a level may carry on for the day or be gone
with the hour). The level moves the yardstick but does not narrow the tails: an
hour's level says least at the turn of an hour or a day, when it jumps, and tails
fitted to the usual small drift gave false alarms there (bench/surges.py: 0.3 to 1
a month on busy services over six clean months; a day at 1.5× from midnight
alarmed).

A detection also needs at least `min_networks` more distinct networks in the last
10 (or 30) minutes than the reporters expected then (plus their normal fluctuation):
the surplus itself must come from many networks. A flood from a handful of networks
(however many client ids it forges, however long it lasts) can push the state to
`possible`, never to `detected`.

This and `values.ValueDetector` share the same core: an observation reduced to an
upper-tail probability at several time scales, Bonferroni-corrected, turned into
a surprise level and fed to the same hysteresis state machine. Only the model of
"normal" differs: a seasonal count model here, an empirical distribution there.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from pantau.detect.baseline import BaselineConfig, SeasonalBaseline
from pantau.detect.states import Hysteresis, Thresholds
from pantau.detect.tails import MAX_SURPRISE, nb_upper, surprise
from pantau.signals import CrowdState

# Set on the false-alarm budget of one a service-month, as measured (bench/surges.py,
# five worlds pooled, 15 and 30 service-months a kind of service): 0.15 a
# service-month over 3 months, 0.21 over 6, and at most 0.63 for one kind (busy).
# The bound the model itself gives, p <= 1/43,200 a minute (10^-4.64) after the
# correction for four scales, was met with room to spare (0.02 and 0.07) as the
# model's tails are wider than normal traffic needs (what it does not know of the
# level is in them), and it found a ×3 surge in 12 minutes (median) instead of 9.
COUNT_THRESHOLDS = Thresholds(possible_at=3.0, detect_at=4.0, clear_at=2.0, clear_after=15)


DISPERSION_BLOCK = 30
"""Normal minutes summed for one dispersion estimate: the longest scale's length."""
DISPERSION_MEMORY_BLOCKS = 100.0
"""About how many well-filled blocks (two days of them) the dispersion remembers."""

LEVEL_MEMORY_MINUTES = 60.0
"""About how many minutes the local level remembers: enough reports to rest on, and
still today's."""
PERSISTENCE_PRIOR = (1.0, 0.1)
"""(slope, weight) until learnt, at every horizon: all of a level's deviation lasts,
believed like a few blocks of a service whose level wanders by 15-20 % (the weight is
in squared relative deviations, which such a block adds about 0.03 of): about three
blocks, an hour and a half of half-hour ones or half an hour of 10-minute ones."""

PERSISTENCE_HORIZONS = (10, DISPERSION_BLOCK)
"""Block lengths (minutes) over which the level's persistence is learnt, each on its
own: a window's test uses the shortest at least as long as itself. Where the level
wanders from hour to hour, what it says lasts into the next ten minutes (0.3-0.95 on
bench/surges.py's services) more than into the next half hour (0-0.85): with one slope
for all, learnt on half hours, a 10-minute window's yardstick ignored most of what the
last hour showed."""

DAY_SPREAD_PRIOR = (0.01, 3.0)
"""(relative variance, weight in days) of a day's level against the baseline until
learnt: days 10 % apart, believed like three days of data."""
DAY_SPREAD_MEMORY_DAYS = 28.0
DAY_MIN_EXPECTED = 50.0
"""Expected reports below which a day (a first day begun late) says too little of its
level to be learnt from."""

BASELINE_HOLD_MINUTES = DISPERSION_BLOCK
"""How long a normal minute waits before the baseline learns it: until it has left every
window it is tested in. Learnt at once, the minutes of a surge not detected yet raised
the very expectation they were tested against: a quarter hour of ×3 on a small service
lifted its time of day's level by a quarter (a slot remembers about 105 minutes), and
surges that the oracle of bench/surges.py found were never detected. A time of day
with no history of its own (`SeasonalBaseline.unseen`) learns at once: it has nothing
better to go on."""

NETWORK_WINDOWS = (10, 30)
"""Minutes over which distinct networks are counted for a detection. The short window
lets a sharp surge through within minutes; the long one lets a modest but lasting
surge on a small service gather enough networks. Counted as distinct networks, a
flood from a few networks stays a few networks however long the window."""


def _empty_blocks() -> dict[int, list[float]]:
    """A block at each persistence horizon, nothing gathered yet (`CountDetector._blocks`)."""
    return {h: [0.0, 0.0, 0.0, 0.0] for h in PERSISTENCE_HORIZONS}


@dataclass(frozen=True, slots=True)
class CountConfig:
    scales: tuple[int, ...] = (1, 3, 10, 30)
    thresholds: Thresholds = COUNT_THRESHOLDS
    min_networks: int = 25
    learn_minutes: int = 15
    """No detection in a service's first minutes: its level is still a guess."""
    adapt_after_minutes: int = 6 * 60
    """An anomaly longer than this is taken as the new normal and learnt again (at
    the capped pace), so a service that grew for good is not "down" for ever."""
    dispersion_prior: float = 0.05
    dispersion_floor: float = 0.03
    """The least spread the tails allow, learnt or not: the spread of sums over half
    hours says little of the jumps that come between them (a busy service's hour
    at twice the last one's), and as it settles over months (0.03 in a busy
    service's first month, 0.02 by its fifth on bench/surges.py) its false alarms
    rose from none in the first month to 0.7 a month over the seventh to ninth (at
    0.01 and 10^-4.64). At 0.03 and these thresholds: 0.33 a month over nine
    months, 0.53 over the last three; and at 10^-4.64 no surge was found any later
    for it (770 of 1,200 ×3 surges over six months either way). Most services learn
    more than this; the busy ones hit it."""
    baseline: BaselineConfig = field(default_factory=BaselineConfig)


@dataclass(frozen=True, slots=True)
class CountScore:
    minute: datetime
    observed: int
    expected: float
    surprise: float
    score: float
    state: CrowdState
    alarm: bool


@dataclass(slots=True)
class CountDetector:
    config: CountConfig = field(default_factory=CountConfig)
    established: bool = False
    """The service is older than what this detector is fed (a replay of its last week):
    no time of day is new to it, whatever the first day fed shows, so an outage then
    is not taken for a time of day first seen."""
    baseline: SeasonalBaseline = field(init=False)
    _observed: deque[int] = field(init=False)
    _expected: deque[float] = field(init=False)
    _machine: Hysteresis = field(init=False)
    _dispersion: float = 0.0
    _level: tuple[float, float] = (0.0, 0.0)
    """Reports and baseline expectation of the recent normal minutes, exponentially
    weighted: the local level's evidence."""
    _levels: deque[tuple[float, float]] = field(init=False)
    """`_level` after each of the last minutes, the most recent last."""
    _persistence: dict[int, tuple[float, float]] = field(init=False)
    """Per horizon (PERSISTENCE_HORIZONS), exponentially weighted sums over blocks of
    that many minutes of (level's deviation × the block's deviation) and (level's
    deviation)²: the regression of what came on what the level said."""
    _blocks: dict[int, list[float]] = field(init=False)
    """Per horizon, the block of normal minutes being gathered: observed, expected,
    minutes, and the summed deviation of the level that many minutes before each. The
    longest also feeds the dispersion."""
    _horizon: dict[int, int] = field(init=False)
    """The persistence horizon of each window tested."""
    _day: date | None = None
    _today: list[float] = field(default_factory=lambda: [0.0, 0.0])
    """Reports of today's normal minutes so far (not those possibly abnormal), and
    what the level the day opened with expected of them."""
    _opening: float = 1.0
    """The factor on the baseline that the last level of yesterday carried into today."""
    _todays: deque[tuple[date | None, float]] = field(init=False)
    """The day and `_today`'s expectation after each of the last minutes, the most
    recent last: what the level before a window had seen of its day."""
    _day_spread: tuple[float, float] = (0.0, 0.0)
    """Exponentially weighted sums of the days' relative variance beyond Poisson against
    the baseline, and of their weight: how far a whole day may stand from it."""
    _held: deque[tuple[datetime, int]] = field(init=False)
    """Normal minutes (and counts) the baseline has yet to learn, oldest first."""
    _seen: int = 0
    _abnormal_for: int = 0

    def __post_init__(self) -> None:
        horizon = max(*self.config.scales, *NETWORK_WINDOWS)
        self.baseline = SeasonalBaseline(self.config.baseline)
        self._observed = deque(maxlen=horizon)
        self._expected = deque(maxlen=horizon)
        self._levels = deque(maxlen=horizon)
        self._todays = deque(maxlen=horizon)
        self._held = deque()
        self._machine = Hysteresis(self.config.thresholds)
        self._dispersion = self.config.dispersion_prior
        self._persistence = {h: (0.0, 0.0) for h in PERSISTENCE_HORIZONS}
        self._blocks = _empty_blocks()
        self._horizon = {
            w: next((h for h in PERSISTENCE_HORIZONS if h >= w), DISPERSION_BLOCK)
            for w in {1, *self.config.scales, *NETWORK_WINDOWS}
        }

    @property
    def state(self) -> CrowdState:
        return self._machine.state

    def update(self, minute: datetime, reporters: int, networks: Sequence[int]) -> CountScore:
        """Score one minute; minutes must be fed in order, gaps as zero counts.

        `networks[i]` is the number of distinct networks among the counted reports of
        the last NETWORK_WINDOWS[i] minutes, this one included (not a sum of
        per-minute counts: one network reporting every minute is still one network).
        """
        cfg = self.config
        expected = self.baseline.expected(minute)
        self._observed.append(reporters)
        self._expected.append(expected)
        self._seen += 1
        dispersion = max(cfg.dispersion_floor, self._dispersion) + self.baseline.doubt(minute)
        if minute.date() != self._day:
            self._new_day(minute.date(), dispersion)
        best = 1.0
        day_spread = self._day_doubt()
        observed, expect = list(self._observed), list(self._expected)
        # The local level before each window, read once though a window is both a
        # scale and a network window, and the last minute's is the expected one's.
        factors = {
            w: self._local_level(w, dispersion) for w in {1, *cfg.scales, *NETWORK_WINDOWS}
        }
        for k in cfg.scales:
            if k > len(observed):
                break
            mean = factors[k] * sum(expect[-k:])
            tails = dispersion + self._today_doubt(k, day_spread)
            best = min(best, nb_upper(sum(observed[-k:]), mean, tails))
        level = surprise(best * len(cfg.scales))
        # Beyond normal fluctuation too (3 Poisson sd), so background noise on top of
        # a flood's few networks does not make up the difference.
        surplus_networks = -math.inf
        for w, distinct in zip(NETWORK_WINDOWS, networks, strict=True):
            normal = factors[w] * sum(expect[-w:])
            surplus_networks = max(surplus_networks, distinct - normal - 3 * math.sqrt(normal))
        may_detect = self._seen > cfg.learn_minutes and surplus_networks >= cfg.min_networks
        state, alarm = self._machine.step(level, may_detect)
        self._abnormal_for = 0 if state is not CrowdState.DETECTED else self._abnormal_for + 1
        # Learn from every minute that is not part of a detected anomaly (capped in
        # the baseline, and there once it has left the windows). Skipping merely
        # "surprising" minutes too would be a trap: a rising edge the baseline has not
        # learnt yet would stay unlearnt for ever.
        # So would skipping detected minutes at a time of day not seen yet: a new
        # service whose evening is eight times busier than its day is "detected" from
        # 18:00 on its first evening, and if that evening were never learnt, on every
        # evening after (the spell ends at midnight, before `adapt_after_minutes`).
        # Such a minute teaches its own time of day only (`SeasonalBaseline.learn`): the
        # detection vouches for it (many networks saw it, not a flood), but it may be
        # an outage on a new service's first day, and it must not reach further.
        calm = state is not CrowdState.DETECTED
        adapting = self._abnormal_for > cfg.adapt_after_minutes
        if calm or self._seen <= cfg.learn_minutes or adapting:
            self._learn(minute, reporters, expected, dispersion, state)
        elif not self.established and self.baseline.unseen(minute):
            self.baseline.learn(minute, reporters, first_seen=True)
        self._release_held(minute, now_detected=not calm and not adapting)
        self._levels.append(self._level)
        self._todays.append((self._day, self._today[1]))
        score = level / MAX_SURPRISE
        return CountScore(minute, reporters, factors[1] * expected, level, score, state, alarm)

    def resume(self) -> None:
        """Go on after minutes nobody could report in (pantau was not running). They
        were not quiet minutes: nothing is learnt of them, and the windows start afresh
        rather than span them. The minutes held back are learnt now: they have left
        every window."""
        self._observed.clear()
        self._expected.clear()
        self._levels.clear()
        self._todays.clear()
        self._blocks = _empty_blocks()
        while self._held:
            self.baseline.learn(*self._held.popleft())

    def _deviation(self, window: int, dispersion: float) -> float:
        """How far the recent normal minutes before the last `window` stood from the
        baseline, relatively (-0.4: at 60 % of it).

        Gamma-Poisson: the level's prior has mean 1 and the baseline's relative
        variance; the evidence is the minutes' reports against their expected sum."""
        reports, exposure = self._levels[-window] if window <= len(self._levels) else (0.0, 0.0)
        prior = 1.0 / dispersion
        return (reports + prior) / (exposure + prior) - 1.0

    def _local_level(self, window: int, dispersion: float) -> float:
        """The factor on the baseline for a window of the last `window` minutes."""
        return 1.0 + self._persists(self._horizon[window]) * self._deviation(window, dispersion)

    def _persists(self, horizon: int) -> float:
        """How much of a level's deviation carries on into the next `horizon` minutes:
        the least-squares slope, between 0 and 1. Near 1 where days run busy or quiet for
        hours; lower where the level wanders from hour to hour, and an hour's level
        says little about the next one's."""
        products, squares = self._persistence[horizon]
        slope, weight = PERSISTENCE_PRIOR
        return min(1.0, max(0.0, (products + slope * weight) / (squares + weight)))

    def _learn(
        self, minute: datetime, count: int, expected: float, dispersion: float, state: CrowdState
    ) -> None:
        if self.baseline.unseen(minute):
            self.baseline.learn(minute, count)
        else:
            self._held.append((minute, count))
        if state is CrowdState.NORMAL:  # as the level, not what may be a flood or a surge
            self._today[0] += count
            self._today[1] += expected * self._opening
        for horizon, block in self._blocks.items():
            block[0] += count
            block[1] += expected
            block[2] += 1
            # What the level said before a window of this length, as its test uses it.
            block[3] += self._deviation(horizon, dispersion)
            if block[2] >= horizon:
                if horizon == DISPERSION_BLOCK:
                    self._learn_dispersion(block[0], block[1])
                self._learn_persistence(horizon, block[3] / block[2], block[0] / block[1] - 1.0)
                self._blocks[horizon] = [0.0, 0.0, 0.0, 0.0]
        # The level learns the minute too, capped like the baseline; while something is
        # possibly wrong it may fall but not rise, so a surge not detected yet, or a
        # flood from a few networks, cannot lift its own yardstick. (Read again here: a
        # block that just ended has moved the persistence.)
        level = self._local_level(1, dispersion) * expected
        if state is CrowdState.POSSIBLE:
            capped = min(count, level)
        else:
            capped = min(count, level + 4.0 * math.sqrt(level) + 1.0)
        decay = 1.0 - 1.0 / LEVEL_MEMORY_MINUTES
        reports, exposure = self._level
        self._level = (reports * decay + capped, exposure * decay + expected)

    def _new_day(self, day: date, dispersion: float) -> None:
        """Learn how far the day that ended stood from what the level it opened with
        expected, and start the next.

        From the opening level, not the baseline: at midnight that level is what the
        windows' yardsticks rest on, and the baseline, whose weekday factors learn
        each day as it goes, hid most of how far days stand apart (0.009 learnt where
        days ran 20 % apart, and a day at 1.5× came to a surprise of 4.53 at 00:29, 3.47 now)."""
        observed, expected = self._today
        if expected >= DAY_MIN_EXPECTED:
            excess = ((observed - expected) ** 2 - expected) / (expected * expected)
            spread, weight = self._day_spread
            decay = 1.0 - 1.0 / DAY_SPREAD_MEMORY_DAYS
            # Clipped: a day half as busy again as its baseline adds 0.25, a normal one
            # about its Poisson share, so one strange day moves the spread a little.
            self._day_spread = (spread * decay + min(excess, 0.25), weight * decay + 1)
        self._day = day
        self._today = [0.0, 0.0]
        self._opening = 1.0 + self._persists(DISPERSION_BLOCK) * self._deviation(1, dispersion)

    def _day_doubt(self) -> float:
        """How far a day's level may stand from the level the day before ended with,
        as a relative variance: the spread learnt over weeks, with its prior."""
        spread, weight = self._day_spread
        prior_spread, prior_weight = DAY_SPREAD_PRIOR
        return max(0.0, (spread + prior_spread * prior_weight) / (weight + prior_weight))

    def _today_doubt(self, window: int, day: float) -> float:
        """The relative variance of today's level that the local level before the last
        `window` minutes has not yet told: days run busier or quieter than the level
        yesterday ended with by a spread learnt over weeks, and what a day is like shows
        only as its minutes come (Gamma-Poisson: a prior of that spread, the evidence of
        today's expected reports before the window). Largest at midnight, where the
        local level still speaks for yesterday, and for a window begun before it, whose
        level has seen nothing of today: counting the window's own minutes as evidence
        would narrow the tails without moving the level. `day`: `_day_doubt()`."""
        before, seen = self._todays[-window] if window <= len(self._todays) else (None, 0.0)
        return day / (1.0 + day * (seen if before == self._day else 0.0))

    def _release_held(self, now: datetime, *, now_detected: bool) -> None:
        """Teach the baseline the held minutes that have left the longest window; forget
        them all when a detection starts or goes on, as they may be its rising edge."""
        held = self._held
        if now_detected:
            held.clear()
            return
        # In real time: two local times of one zone subtract as wall clocks, and the
        # night summer time begins would learn the minutes of the hour before at once.
        until = now.timestamp() - BASELINE_HOLD_MINUTES * 60
        while held and held[0][0].timestamp() <= until:
            self.baseline.learn(*held.popleft())

    def _learn_dispersion(self, observed: float, expected: float) -> None:
        """Method of moments for Var = mu + d·mu², on sums of normal minutes.

        On sums, as the tails use it: the spread that persists over many minutes
        (a busy hour, a quiet one) is what makes a long window's sum surprising. A
        sum of many reports is also nearly symmetric, where single minutes of a
        small service are so skewed that clipping them biased d towards zero. The
        estimate of a block's d has variance about 2·(1/mu + d)², so blocks with
        few reports count for little. Clipped on both sides, so one strange block
        moves it at most a little either way."""
        excess = ((observed - expected) ** 2 - expected) / (expected * expected)
        prior = self.config.dispersion_prior
        weight = (prior / (1.0 / expected + prior)) ** 2 / DISPERSION_MEMORY_BLOCKS
        self._dispersion += weight * (min(max(excess, -1.0), 1.0) - self._dispersion)

    def _learn_persistence(self, horizon: int, said: float, came: float) -> None:
        # Every horizon remembers as many minutes as the dispersion does.
        decay = 1.0 - horizon / (DISPERSION_BLOCK * DISPERSION_MEMORY_BLOCKS)
        products, squares = self._persistence[horizon]
        self._persistence[horizon] = (
            products * decay + said * came, squares * decay + said * said
        )
