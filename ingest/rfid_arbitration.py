"""PURE cross-read arbitration: which single location a tag heard on several antennas belongs to.

Per tag and location the tracker keeps decayed evidence (time constant tau): read count `cnt` and
n-weighted RSSI sum. A location's score is

    score = mean RSSI + count_weight_db * ln(cnt + 0.5)          [dB]

so a neighbour's cross-reads (weaker and rarer) lose on both terms. A challenger replaces the
confirmed location only when, for `move_dwell_ms` without interruption, it has at least
`move_min_reads` decayed reads and beats the confirmed score by `hysteresis_db`, or the confirmed
location has not heard the tag since the challenger's loud run began, for long enough to rule out
a miss (`MOVE_SILENCE_DELTA`). The hysteresis and the dwell stop tags flapping between
neighbours. (A tag silent for its whole departure window but heard, nearly as loud, elsewhere
since moves too: see `TagTracker`.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ingest.rfid_state import Tag, decayed, read_prob_lower
from ingest.rfid_types import TrackerConfig

RSSI_MISSING_DBM = -65.0  # used when a read carries no RSSI
MOVE_SILENCE_DELTA = 1e-3  # per test; the tag must also be heard loud elsewhere meanwhile
_FORGET_CNT = 0.05  # evidence below this many decayed reads is dropped

# indices into an `ev` entry
CNT, RSUM, T_MS, STRONG_TS, LAST_TS = 0, 1, 2, 3, 4


@dataclass(frozen=True, slots=True)
class Challenger:
    location: str
    score_db: float
    own_score_db: float
    cnt: float
    mean_rssi_dbm: float
    since_ms: int  # best estimate of when the tag got there
    last_ms: int  # its latest read there


def score_db(cnt: float, rssi_sum: float, cfg: TrackerConfig) -> float:
    """Score of one location from decayed evidence; -inf without reads."""
    if cnt <= 1e-9:
        return -math.inf
    return rssi_sum / cnt + cfg.count_weight_db * math.log(cnt + 0.5)


def own_mean_rssi(tag: Tag) -> float:
    return tag.rssi_sum / tag.cnt if tag.cnt > 1e-9 else RSSI_MISSING_DBM


def add_other(
    tag: Tag, key: str, n: int, rssi: float, ts_ms: int, tau_ms: int, h_db: float
) -> None:
    """Add `n` reads of the tag on location `key` (not its confirmed location)."""
    ev = tag.ev
    if ev is None:
        ev = tag.ev = {}
    entry = ev.get(key)
    k = 1.0  # decay to the new read (as `decayed`, inline: this is the hot path)
    if entry is not None and ts_ms > entry[T_MS]:
        k = math.exp((entry[T_MS] - ts_ms) / tau_ms)
        if entry[CNT] * k < _FORGET_CNT and tag.loc is not None:
            entry = None  # faded away: a run here starts afresh (a held tag keeps its own)
    if entry is None:
        entry = ev[key] = [0.0, 0.0, float(ts_ms), 0.0, float(ts_ms)]
    # the level it was heard at here lately (None: not heard here lately)
    heard_dbm = entry[RSUM] / entry[CNT] if entry[CNT] > 1e-9 else None
    if ts_ms > entry[T_MS]:
        entry[CNT] = entry[CNT] * k + n
        entry[RSUM] = entry[RSUM] * k + n * rssi
        entry[T_MS] = float(ts_ms)
    else:
        entry[CNT] = entry[CNT] + n
        entry[RSUM] = entry[RSUM] + n * rssi
    if ts_ms > entry[LAST_TS]:
        entry[LAST_TS] = float(ts_ms)
    strong = entry[STRONG_TS]
    louder = heard_dbm is None or rssi >= heard_dbm + h_db  # than it was heard here so far
    if strong == 0.0:
        if (
            tag.loc is None
            or rssi >= own_mean_rssi(tag) - h_db / 2
            or (louder and _unheard_at_home(tag, ts_ms))
        ):
            entry[STRONG_TS] = float(ts_ms)
    elif (
        strong <= tag.last_ts_ms and tag.loc is not None and louder and _unheard_at_home(tag, ts_ms)
    ):
        entry[STRONG_TS] = float(ts_ms)  # its run there began while it was still heard at home


def _unheard_at_home(tag: Tag, ts_ms: int) -> bool:
    """Is the tag's confirmed location not hearing it at `ts_ms`: its antennas out (not in
    `ants`), or its reader's batches more than a second behind, or back from a gap without
    having heard the tag since? Then a read elsewhere, however faint, may begin its new place,
    if louder, by the hysteresis, than that place heard it before (a tag still at home goes on
    being cross-read there as before, within its fading; one put there is read louder than
    its cross-reads were)."""
    home = tag.loc
    assert home is not None
    return (
        not home.live_ports
        or home.seen_until_ms < ts_ms - 1000
        or tag.seen_clock < home.resume_clock
    )


def add_own(tag: Tag, n: int, rssi: float, ts_ms: int, tau_ms: int) -> None:
    """Add `n` reads on the tag's confirmed location."""
    k = decayed(1.0, tag.ev_t_ms, ts_ms, tau_ms)
    tag.cnt = tag.cnt * k + n
    tag.rssi_sum = tag.rssi_sum * k + n * rssi
    if ts_ms > tag.ev_t_ms:
        tag.ev_t_ms = ts_ms


def best_other(
    tag: Tag, now_ms: int, cfg: TrackerConfig, *, forget: bool = True
) -> Challenger | None:
    """The strongest other location (forgetting faded ones unless `forget` is False: a tentative
    tag keeps where, and since when, it was heard while it is held), or None."""
    ev = tag.ev
    if not ev:
        tag.ev = None
        return None
    tau = cfg.arbitration_tau_ms
    own = score_db(decayed(tag.cnt, tag.ev_t_ms, now_ms, tau), _own_rsum(tag, now_ms, tau), cfg)
    best: Challenger | None = None
    for key, e in list(ev.items()):
        k = decayed(1.0, int(e[T_MS]), now_ms, tau)
        cnt = e[CNT] * k
        if cnt < _FORGET_CNT:
            if forget:
                del ev[key]
            continue
        s = score_db(cnt, e[RSUM] * k, cfg)
        if best is None or s > best.score_db:
            since = int(e[STRONG_TS]) if e[STRONG_TS] > 0 else int(e[LAST_TS])
            best = Challenger(key, s, own, cnt, e[RSUM] / e[CNT], since, int(e[LAST_TS]))
    if not ev:
        tag.ev = None
    return best


def _own_rsum(tag: Tag, now_ms: int, tau: int) -> float:
    return decayed(tag.rssi_sum, tag.ev_t_ms, now_ms, tau)


def no_contender(tag: Tag, now_ms: int, cfg: TrackerConfig) -> bool:
    """True when no other location can lead now, so `move_target` would return None; drops faded
    evidence as `best_other` does. A cheap exact pre-check (one exp per location, no objects)."""
    ev = tag.ev
    assert ev is not None
    tau, need = cfg.arbitration_tau_ms, cfg.move_min_reads
    own = math.nan
    for key, e in list(ev.items()):
        age_ms = now_ms - e[T_MS]
        cnt = e[CNT] * math.exp(-age_ms / tau) if age_ms > 0 else e[CNT]
        if cnt < _FORGET_CNT:
            del ev[key]
            continue
        if cnt < need:
            continue
        if (e[STRONG_TS] if e[STRONG_TS] > 0 else e[LAST_TS]) > tag.last_ts_ms:
            return False  # a run that began after the last own read: silence may decide
        if own != own:  # nan: not computed yet
            own = score_db(
                decayed(tag.cnt, tag.ev_t_ms, now_ms, tau), _own_rsum(tag, now_ms, tau), cfg
            )
        if e[RSUM] / e[CNT] + cfg.count_weight_db * math.log(cnt + 0.5) >= own + cfg.hysteresis_db:
            return False
    if not ev:
        tag.ev = None
    return True


def move_target(tag: Tag, now_ms: int, cfg: TrackerConfig) -> Challenger | None:
    """The location a confirmed tag should move to now, or None (updates the dwell timer)."""
    ch = best_other(tag, now_ms, cfg)
    if ch is None or not _leads(tag, ch, cfg):
        tag.lead_since_ms = None
        return None
    if tag.lead_since_ms is None:
        tag.lead_since_ms = now_ms
    if now_ms - tag.lead_since_ms < cfg.move_dwell_ms:
        return None
    return ch


def _leads(tag: Tag, ch: Challenger, cfg: TrackerConfig) -> bool:
    if ch.cnt < cfg.move_min_reads:
        return False
    if ch.score_db >= ch.own_score_db + cfg.hysteresis_db:
        return True
    return _silent_since(tag, ch, cfg)


def _silent_since(tag: Tag, ch: Challenger, cfg: TrackerConfig) -> bool:
    """Own location silent since the challenger's loud run began, for long enough that a tag
    still there would have been read with probability 1 - `MOVE_SILENCE_DELTA`, and the
    challenger scoring at least as high as home by now (home's evidence decays while it is
    silent: a place that still scores below it is a neighbour cross-reading the tag through
    a fade at home, and a move there would carry no confidence)."""
    loc = tag.loc
    if loc is None or ch.since_ms <= tag.last_ts_ms or ch.score_db < ch.own_score_db:
        return False
    if ch.mean_rssi_dbm < own_mean_rssi(tag) - cfg.hysteresis_db:
        return False
    p = read_prob_lower(tag, cfg)
    silent_rounds = loc.clock - max(tag.seen_clock, loc.resume_clock)
    return silent_rounds >= math.log(1.0 / MOVE_SILENCE_DELTA) / -math.log1p(-p)


def settle_location(tag: Tag, now_ms: int, cfg: TrackerConfig) -> tuple[Challenger | None, float]:
    """For a tentative tag (all evidence in `ev`): the best location and its lead (dB) over the
    runner-up (+inf when it is the only one)."""
    best = best_other(tag, now_ms, cfg, forget=False)
    if best is None or tag.ev is None or len(tag.ev) < 2:
        return best, math.inf
    tau = cfg.arbitration_tau_ms
    runner_up = max(
        score_db(
            e[CNT] * decayed(1.0, int(e[T_MS]), now_ms, tau),
            e[RSUM] * decayed(1.0, int(e[T_MS]), now_ms, tau),
            cfg,
        )
        for k, e in tag.ev.items()
        if k != best.location
    )
    return best, best.score_db - runner_up
