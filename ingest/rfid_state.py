"""PURE mutable records of the RFID tracker and the adaptive-window statistics.

Observed-round clocks: every location keeps `clock`, the number of inventory rounds (float) its
antennas have run while observing (batches that list the antenna in `ants`). A tag stores the
clock value of its location at its last read (`seen_clock`); `clock - seen_clock` is the number of
rounds the tag was *observable and missed*. Time without observation (gaps, missing antennas,
offline gateways) never advances a clock, so it can never count towards a departure.

Adaptive window (`ingest.rfid_window`): the observed rounds a tag may go unread, from p, the
lower confidence bound of a Beta posterior over the tag's own reads and observed rounds.
"""

from __future__ import annotations

import math
from collections import OrderedDict, deque

from ingest.rfid_types import AntennaSpec, TagState, TrackerConfig

_Z_LOWER = 1.64  # one-sided 95 % bound on the read probability
_P_MIN = 0.02
_P_MAX = 0.97
_HEALTHY = 0.85  # a batch with at least this share of the expected reads counts in full
_SHADOW_Z = 3.0  # a batch this many binomial stds short of the expected reads is shadowed
_DOUBT_Z = 2.0  # ... and this many short: no departures are decided there in this batch
_RECENT_ROUNDS = 10.0  # the shadowing test looks at about this many recent rounds
_LONG_ROUNDS = 40.0  # ... and again at this many (the evidence for a shadow at a low rate)
_ACTIVE_ROUNDS = 20.0  # a tag read within this many rounds counts as active at its location
MIN_RATE_EVIDENCE = 300.0  # tag-rounds of evidence before a batch may be judged shadowed
_RATE_MEMORY_ROUNDS = 1000.0  # memory of a location's learned read rate (rounds of evidence)


class Loc:
    """One location: its observed-round clock and its confirmed tags ordered by last read."""

    __slots__ = (
        "antennas",
        "batch_reads",
        "clock",
        "doubtful",
        "gap_from_ms",
        "is_portal",
        "key",
        "live_ports",
        "long_expected",
        "long_reads",
        "near_hits",
        "neighbours",
        "present",
        "rate",
        "rate_evidence",
        "raw_rounds",
        "reads_total",
        "recent_expected",
        "recent_reads",
        "resume_clock",
        "resume_ms",
        "seen_until_ms",
        "shadow_ms",
        "shadowed",
        "trail",
    )

    def __init__(self, key: str, *, is_portal: bool) -> None:
        self.key = key
        self.is_portal = is_portal
        self.clock = 0.0  # observed rounds, monotone
        self.resume_clock = 0.0  # clock when observation last resumed after a gap
        self.resume_ms = 0  # event time of that resumption
        self.seen_until_ms = 0  # end of the latest interval it was observed (0: never)
        self.gap_from_ms = 0  # start of the gap that ended at resume_ms (0: first observation)
        self.present: OrderedDict[str, Tag] = OrderedDict()  # least recently read first
        self.antennas: list[tuple[str, int]] = []
        self.batch_reads = 0  # reads of its confirmed tags in the batch being applied
        self.rate = -1.0  # learned reads per active tag per round (-1: not yet)
        self.rate_evidence = 0.0  # tag-rounds behind it (up to MIN_RATE_EVIDENCE)
        self.recent_reads = 0.0  # reads of active tags over the last ~_RECENT_ROUNDS (decayed)
        self.recent_expected = 0.0  # ... and what the learned rate expected of them
        self.long_reads = 0.0  # the same over the last ~_LONG_ROUNDS
        self.long_expected = 0.0
        self.doubtful = False  # short of reads in the latest batch, if not yet significantly
        self.shadowed = False  # significantly short of reads in the latest batch
        self.shadow_ms = 0  # end of the latest batch judged shadowed or doubtful (0: never)
        self.live_ports: set[tuple[str, int]] = set()  # antennas in their device's latest `ants`
        self.neighbours: set[str] = set()  # locations that cross-read its tags, or it theirs
        self.near_hits: dict[str, int] = {}  # cross-reads towards places not yet neighbours
        # per batch (clock, raw_rounds, reads_total) as far back as the longest window, and
        # the running totals: observed rounds before any shadow slowed them, confirmed-tag
        # reads (see `ingest.rfid_shadow`)
        self.raw_rounds = 0.0
        self.reads_total = 0.0
        self.trail: deque[tuple[float, float, float]] = deque()


class Device:
    """One reader: how far its batches reach (`frontier_ms`) and which ports observe."""

    __slots__ = (
        "dark",
        "device",
        "frontier_ms",
        "last_ants",
        "learn",
        "offline",
        "ports",
        "rounds_per_s",
        "span_ms",
    )

    def __init__(self, device: str, rounds_per_s: float | None) -> None:
        self.device = device
        self.frontier_ms: int | None = None  # max t1 applied
        self.last_ants: frozenset[int] = frozenset()
        self.offline = False
        self.dark = False  # some port missing from the latest `ants`
        self.ports: dict[int, tuple[AntennaSpec, Loc]] = {}
        self.rounds_per_s = rounds_per_s or 1.0
        self.span_ms = 0  # length of its latest batch (t1 - t0)
        # rounds learning over contiguous batches: [end of the last batch, sum of their largest
        # n, their total ms] (see `ingest.rfid_coverage.learn_rounds`)
        self.learn: list[int] = [0, 0, 0]

    def observing(self, now_ms: int, silence_ms: int) -> frozenset[int]:
        """Ports observing at `now_ms` (empty when offline or silent for `silence_ms`)."""
        if self.offline or self.frontier_ms is None or now_ms - self.frontier_ms > silence_ms:
            return frozenset()
        return self.last_ants


class Tag:
    """One tag. `loc` is the confirmed location (None while tentative or gone).

    Evidence at the confirmed location is inline (`cnt`, `rssi_sum`, `ev_t_ms`: read counts and
    n-weighted RSSI, both decayed with the arbitration time constant); other locations live in
    `ev` as [cnt, rssi_sum, ev_t_ms, strong_ts_ms, last_ts_ms] lists (None when there are none).
    A departed tag keeps its last read where it was confirmed (`left_ts_ms`): a read from
    before it, replayed late, is where it was before it left, not where it went.
    """

    __slots__ = (
        "clock0",
        "cnt",
        "epc",
        "ev",
        "ev_t_ms",
        "first_ts_ms",
        "last_move_ts_ms",
        "last_ts_ms",
        "lead_since_ms",
        "left_ts_ms",
        "loc",
        "n_sum",
        "rssi_sum",
        "seen_clock",
        "state",
    )

    def __init__(self, epc: str, ts_ms: int) -> None:
        self.epc = epc
        self.state = TagState.TENTATIVE
        self.loc: Loc | None = None
        self.first_ts_ms = ts_ms
        self.last_ts_ms = ts_ms
        self.last_move_ts_ms = 0
        self.left_ts_ms = 0  # gone: its last read where it was confirmed (older reads are stale)
        self.seen_clock = 0.0
        self.clock0 = 0.0
        self.n_sum = 0
        self.cnt = 0.0
        self.rssi_sum = 0.0
        self.ev_t_ms = ts_ms
        self.ev: dict[str, list[float]] | None = None
        self.lead_since_ms: int | None = None


def degradation(loc: Loc, rounds: float) -> float:
    """Share of `rounds` that counts as observed, from the location's own read rate.

    People and trolleys shadow an antenna for seconds, silencing all of its tags at once. The
    reads of recently active tags (read within the last `_ACTIVE_ROUNDS` rounds or two batches,
    fewer at a high rate: `_active_rounds`)
    over the last ~`_RECENT_ROUNDS` rounds, and again over the last ~`_LONG_ROUNDS` (decayed,
    whatever the batch length: a 250 ms batch holds 2 or 3 whole rounds, not 2.5), are compared
    with what the location's learned read rate per tag and round (p) expects: the short memory
    sees a shadow begin, the long one has the evidence to see it at a low read rate (15 tags at
    p = 0.3 give ~40 reads in 10 rounds, too few to tell a 60 % shadow from chance at z = 3),
    and is asked only while the short one is still short of reads (so it does not linger).
    The batch counts in full unless the reads fall short by 15 % *and* significantly (a
    binomial z-test at `_SHADOW_Z`) in either; a shadowed batch with
    rho = observed/expected counts ln(1-p*rho)/ln(1-p) rounds per round, so a shadowed antenna
    cannot depart its tags early. The rate is a running mean over its first `MIN_RATE_EVIDENCE`
    tag-rounds (no batch is judged before), then an exponential mean per round of evidence,
    three times slower while shadowed: a rate learned too high must not keep a location
    "shadowed" for long, since that slows its clock and inflates its tags' read probabilities.
    One active tag's share of the expected reads is left out of the test, so one tag leaving
    (the last one on a shelf) is not taken for a shadow that would stall its own departure.
    A shortfall past `_DOUBT_Z` but not yet `_SHADOW_Z` (a shadow beginning, at a low read
    rate) marks the location `doubtful`: the tracker decides no departure there in that batch.
    A shadowed batch marks it `shadowed`; the tracker notes when either was last true
    (`Loc.shadow_ms`), for the check over a silent tag's whole silence (`ingest.rfid_shadow`)
    and for moves away from a shelf short of reads (`TagTracker._shaded_at_home`).
    """
    reads, loc.batch_reads = loc.batch_reads, 0
    loc.doubtful = loc.shadowed = False
    clock, horizon = loc.clock, max(2.0 * rounds, _active_rounds(loc.rate))
    active = sum(1 for t in loc.present.values() if clock - t.seen_clock <= horizon)
    if active == 0 or rounds <= 0.0:
        return 1.0
    observed = reads / (active * rounds)
    if loc.rate_evidence < MIN_RATE_EVIDENCE:  # learning the rate: a plain running mean
        loc.rate_evidence += active * rounds
        base = max(loc.rate, 0.0)
        loc.rate = base + (observed - base) * active * rounds / loc.rate_evidence
        return 1.0
    fresh = loc.rate * active * rounds
    keep = math.exp(-rounds / _RECENT_ROUNDS)
    loc.recent_reads = loc.recent_reads * keep + reads
    loc.recent_expected = loc.recent_expected * keep + fresh
    keep = math.exp(-rounds / _LONG_ROUNDS)
    loc.long_reads = loc.long_reads * keep + reads
    loc.long_expected = loc.long_expected * keep + fresh
    p = min(_P_MAX, loc.rate)
    # leave one tag out: a tag that left (the last one on a shelf, say) falls silent alone, and
    # its silence must count towards its own departure, not slow the clock as a shadow would
    share = 1.0 - 1.0 / active
    expected = loc.recent_expected * share
    short_z = _short_by(loc.recent_reads, expected, p)
    loc.doubtful = short_z > _DOUBT_Z
    if short_z > _SHADOW_Z:
        rho = loc.recent_reads / expected
    elif loc.recent_reads < _HEALTHY * expected:
        # short of reads now, but not significantly: the long memory has the evidence (and
        # only while the reads are still short: it must not linger after the shadow has gone)
        rho = shadow_ratio(loc.long_reads, loc.long_expected * share, p)
    else:
        rho = 1.0
    shadowed = loc.shadowed = rho < 1.0
    memory = _RATE_MEMORY_ROUNDS * (3.0 if shadowed else 1.0)
    loc.rate += -math.expm1(-rounds / memory) * (observed - loc.rate)
    if not shadowed:
        return 1.0
    return max(0.05, math.log1p(-p * rho) / math.log1p(-p))


def _active_rounds(rate: float) -> float:
    """Rounds a tag may go unread and still count as active: `_ACTIVE_ROUNDS`, or fewer where
    the location's rate reads a present tag with 99.9 % sooner (at p ~ 1 a tag unread for two
    batches has left or faded alone: counting it made several tags leaving in turn look like
    a shadow, which held their departures, which kept them counted)."""
    if rate <= 0.0:
        return _ACTIVE_ROUNDS
    return min(_ACTIVE_ROUNDS, math.log(1000.0) / -math.log1p(-min(rate, _P_MAX)))


def shadow_ratio(reads: float, expected: float, p: float) -> float:
    """observed/expected if the reads fall short by 15 % and significantly (p: the read rate
    they were expected at), else 1.0."""
    if _short_by(reads, expected, min(_P_MAX, p)) > _SHADOW_Z:
        return reads / expected
    return 1.0


def _short_by(reads: float, expected: float, p: float) -> float:
    """Binomial z of the shortfall of `reads` against `expected` (0.0 unless 15 % short, or
    with fewer than 8 reads expected: too few to judge)."""
    if expected < 8.0 or reads >= _HEALTHY * expected:
        return 0.0
    return (expected - reads) / math.sqrt(expected * (1.0 - p))


def read_prob_lower(tag: Tag, cfg: TrackerConfig) -> float:
    """Lower confidence bound of the tag's per-round read probability at its location."""
    # Rounds up to the tag's last read only: counting the current silence too would make the
    # estimate fall as fast as the misses grow, and the window would run away from them.
    rounds = (tag.seen_clock - tag.clock0) if tag.loc is not None else 0.0
    return prob_lower(tag.n_sum, rounds, cfg)


def prob_lower(reads: float, rounds: float, cfg: TrackerConfig) -> float:
    """Lower confidence bound of a read probability from `reads` in `rounds` (Beta prior)."""
    k = cfg.prior_rounds
    total = max(rounds, reads) + k
    p_hat = (reads + cfg.prior_read_prob * k) / total
    p_lo = p_hat - _Z_LOWER * math.sqrt(p_hat * (1.0 - p_hat) / total)
    return min(_P_MAX, max(_P_MIN, p_lo))


def decayed(cnt: float, since_ms: int, now_ms: int, tau_ms: int) -> float:
    """`cnt` decayed from `since_ms` to `now_ms` (never grows for out-of-order times)."""
    if now_ms <= since_ms:
        return cnt
    return cnt * math.exp((since_ms - now_ms) / tau_ms)
