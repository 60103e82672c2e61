"""PURE state changes of confirmed tags and the movements they emit: relocate, depart, date.

`TagTracker` decides *when* a tag arrives, moves or departs; this module does it: swaps the
tag's inline evidence (its confirmed location) with `ev` (the others), finds the tags whose
observed misses exceed their adaptive window, and builds `TagMovement`s with confidence and
JSON evidence. Movement times never go backwards per tag (`Tag.last_move_ts_ms`).

Dating (event time, ms): an arrival at its first loud read there; a departure just after the last
read, or in the middle of an unobserved gap if the tag was last heard before it; a tag heard as
soon as its location's antennas came back after a gap arrived during the gap (dated to its end:
the latest it can have come unseen).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

from ingest import rfid_shadow as shadow
from ingest.rfid_arbitration import (
    CNT,
    LAST_TS,
    STRONG_TS,
    Challenger,
    add_other,
    best_other,
    own_mean_rssi,
    settle_location,
)
from ingest.rfid_state import Loc, Tag, prob_lower, read_prob_lower
from ingest.rfid_types import TagMoveKind, TagMovement, TagState, TrackerConfig
from ingest.rfid_window import window_rounds

# ln(1/0.001): / -ln(1 - p) rounds in which a tag already present is heard with 99.9 %
_RESUME_ROUNDS = math.log(1000.0)
_NEIGHBOUR_HITS = 3  # cross-reads (within 1 s of a home read) that make two places neighbours
_QUIET_DB = 10.0  # a new tag this far below the median of a location's tags may be a cross-read
_QUIET_MIN_TAGS = 3  # ... of at least this many tags


def read_elsewhere(
    tags: dict[str, Tag],
    tentative: dict[str, Tag],
    epc: str,
    loc: Loc,
    n: int,
    rssi: float,
    ts_ms: int,
    cfg: TrackerConfig,
) -> Tag:
    """A read of an unknown, tentative or gone tag (it becomes tentative), or of a tag confirmed
    elsewhere: cross-reads while it is still read at home (within 1 s) make `loc` and its
    location neighbours from the third on; a moved tag stops being read at home. A read from before
    the tag's latest movement (replayed late) is stale and ignored, unless the tag is gone:
    then it says where it went, if it is younger than the tag's last read where it was (older,
    it was still there)."""
    tag = tags.get(epc)
    if tag is None:
        tag = tags[epc] = tentative[epc] = Tag(epc, ts_ms)
    elif (
        (tag.state is TagState.UNKNOWN and ts_ms <= tag.last_move_ts_ms)
        or (tag.loc is not None and ts_ms < tag.last_move_ts_ms)
        or (tag.loc is None and ts_ms < tag.left_ts_ms)
    ):
        # read before it went out of the store, before it reached where it is confirmed now, or
        # before its last read where it was confirmed when it departed (a gateway's queue
        # replayed late): where it was then, not evidence of where it is or went
        return tag
    elif tag.state is TagState.GONE or tag.state is TagState.UNKNOWN:
        tag.state = TagState.TENTATIVE
        tag.first_ts_ms = ts_ms
        tag.n_sum = 0
        if tag.ev is not None:  # heard elsewhere before it departed: keep what has not faded
            best_other(tag, ts_ms, cfg)
        tentative[epc] = tag
    if tag.state is TagState.TENTATIVE:
        tag.n_sum += n
        tag.first_ts_ms = min(tag.first_ts_ms, ts_ms)
        tag.last_ts_ms = max(tag.last_ts_ms, ts_ms)
    elif (
        tag.loc is not None and ts_ms - tag.last_ts_ms <= 1000 and loc.key not in tag.loc.neighbours
    ):
        _near_hit(tag.loc, loc)
    add_other(tag, loc.key, n, rssi, ts_ms, cfg.arbitration_tau_ms, cfg.hysteresis_db)
    return tag


def _near_hit(home: Loc, other: Loc) -> None:
    """`other` read a tag confirmed at `home` within a second of home's last read of it: after
    `_NEIGHBOUR_HITS` such reads the two are neighbours. One is not enough: a tag carried across
    the store in a second is read so once, and a location made a neighbour of the far side of
    the store holds moves next to it while that side's reader is out (seed 222: 139 s)."""
    hits = home.near_hits.get(other.key, 0) + 1
    if hits < _NEIGHBOUR_HITS:
        home.near_hits[other.key] = other.near_hits[home.key] = hits
        return
    home.near_hits.pop(other.key, None)
    other.near_hits.pop(home.key, None)
    home.neighbours.add(other.key)
    other.neighbours.add(home.key)


def relocate(tag: Tag, new: Loc, r_per_s: float, tau_ms: int) -> None:
    """Make `new` the tag's confirmed location: its evidence there becomes the inline one.

    The old location's evidence is dropped, not kept as a challenger's: reads from before the
    move say where the tag was, and for seconds after it (the time constant) they would still
    outscore the new location's, whose mean RSSI carries the cross-reads it was heard with
    before, and move the tag straight back. If the move was wrong, the old location reads it
    again, loud, and wins it back on fresh reads. Its read rate there starts from the reads
    that settled it (decayed with the arbitration time constant `tau_ms`, over the rounds of
    its loud run there weighed by the same decay): a tag that stays seconds and leaves departs
    on a window of its own rate, not the prior's (up to `max_window_ms`)."""
    ev = tag.ev if tag.ev is not None else {}
    old = tag.loc
    if old is not None:
        old.present.pop(tag.epc, None)
    entry = ev.pop(new.key, None)
    heard_rounds, reads = 0.0, 0
    if entry is not None:
        tag.cnt, tag.rssi_sum, tag.ev_t_ms = entry[0], entry[1], int(entry[2])
        tag.last_ts_ms = int(entry[LAST_TS])
        if entry[STRONG_TS] > 0:  # the rounds its decayed reads weigh, decayed alike
            span_ms = max(0.0, entry[LAST_TS] - entry[STRONG_TS])
            heard_rounds = 1.0 + tau_ms * r_per_s / 1000.0 * -math.expm1(-span_ms / tau_ms)
            reads = int(min(entry[CNT], heard_rounds))
    for other in ev.values():
        other[STRONG_TS] = 0.0  # the next loud read there starts a new run
    tag.ev = ev or None
    tag.loc = new
    tag.n_sum = reads
    tag.seen_clock = new.clock
    tag.clock0 = new.clock - heard_rounds
    tag.lead_since_ms = None
    new.present[tag.epc] = tag


def movement(
    tag: Tag,
    kind: TagMoveKind,
    ts_ms: int,
    from_key: str | None,
    ch: Challenger,
    to: Loc,
    detected_ms: int,
) -> TagMovement:
    """An arrive or move to `to` (the challenger's location), dated no earlier than the last."""
    ts_ms = max(ts_ms, tag.last_move_ts_ms)
    tag.last_move_ts_ms = ts_ms
    margin = ch.score_db - ch.own_score_db if math.isfinite(ch.own_score_db) else 10.0
    conf = min(0.999, (1.0 - math.exp(-ch.cnt / 2.0)) * (1.0 - 0.5 * math.exp(-margin / 3.0)))
    evidence: dict[str, object] = {
        "reads": round(ch.cnt, 2),
        "mean_rssi_dbm": round(ch.mean_rssi_dbm, 1),
        "score_margin_db": round(margin, 1) if math.isfinite(margin) else None,
        "antennas": [f"{d}:{p}" for d, p in to.antennas],
        "detected_ms": detected_ms,
    }
    return TagMovement(tag.epc, kind, ts_ms, from_key, ch.location, max(0.0, conf), evidence)


def expired(loc: Loc, w_min: float, rounds: float, r_per_s: float, cfg: TrackerConfig) -> list[Tag]:
    """Tags of `loc` that missed their whole window of observed rounds, and would have even
    weighed at the share of reads its other tags got meanwhile (`ingest.rfid_shadow`); least
    recently read first, so the scan stops at the first tag that cannot have missed `w_min`."""
    gone: list[Tag] = []
    floor = loc.resume_clock
    for tag in loc.present.values():
        missed = loc.clock - max(tag.seen_clock, floor)
        if missed + 2 * rounds < w_min:
            break
        p = read_prob_lower(tag, cfg)
        window = window_rounds(p, r_per_s, cfg)
        if missed >= window and shadow.silence_rounds(loc, tag, p, missed) >= window:
            gone.append(tag)
    return gone


def heard_elsewhere(
    tag: Tag, ch: Challenger, now_ms: int, window_ms: float, cfg: TrackerConfig
) -> bool:
    """A silent tag moved (rather than left) if it is heard elsewhere since, still now (within
    half its window: a moved tag keeps answering) and not much weaker than at home (antennas
    differ); a few cross-reads just before it left do not make a move."""
    return (
        ch.cnt >= cfg.move_min_reads
        and ch.last_ms > tag.last_ts_ms
        and now_ms - ch.last_ms <= window_ms / 2
        and ch.mean_rssi_dbm >= own_mean_rssi(tag) - 2 * cfg.hysteresis_db
    )


def depart(tag: Tag, loc: Loc, now_ms: int, r_per_s: float, cfg: TrackerConfig) -> TagMovement:
    """Declare the tag gone from `loc` (it stays known, on no antenna). Where it was heard
    elsewhere since it fell silent here is kept: if it is heard there again (it was carried
    there, and is told as a departure and an arrival), its arrival is dated by the reads it had
    there before it departed. Cross-reads from before (it was here then) are dropped."""
    p = read_prob_lower(tag, cfg)
    missed = loc.clock - max(tag.seen_clock, loc.resume_clock)
    if tag.seen_clock < loc.resume_clock:  # last read before an outage: somewhere in it
        ts_ms = (tag.last_ts_ms + loc.resume_ms) // 2
    else:
        ts_ms = tag.last_ts_ms + int(min(1000.0, 500.0 / (p * r_per_s)))
    ts_ms = max(min(ts_ms, now_ms), tag.last_move_ts_ms)
    del loc.present[tag.epc]
    if tag.ev is not None:  # keep where it was heard since it fell silent here (see above)
        silent_from = tag.last_ts_ms
        tag.ev = {k: e for k, e in tag.ev.items() if e[LAST_TS] > silent_from} or None
    tag.loc = None
    tag.state = TagState.GONE
    tag.left_ts_ms = tag.last_ts_ms
    tag.last_ts_ms = now_ms
    tag.last_move_ts_ms = ts_ms
    conf = 1.0 - cfg.false_departure_delta * math.pow(1.0 - p, max(0.0, missed - 1))
    evidence: dict[str, object] = {
        "missed_rounds": round(missed, 1),
        "read_prob": round(p, 3),
        "window_rounds": round(window_rounds(p, r_per_s, cfg), 1),
        "reads": tag.n_sum,
        "antennas": [f"{d}:{p_}" for d, p_ in loc.antennas],
        "detected_ms": now_ms,
    }
    return TagMovement(tag.epc, TagMoveKind.DEPART, ts_ms, loc.key, None, conf, evidence)


def settle_ready(
    tentative: Mapping[str, Tag],
    locs: Mapping[str, Loc],
    now_ms: int,
    cfg: TrackerConfig,
    rounds_per_s: Callable[[Loc], float],
) -> tuple[list[str], list[tuple[Tag, Challenger]]]:
    """Tentative tags to forget (faded, or unheard for `max_window_ms`; kept while where they were
    heard is not observed) and those to confirm at
    their best location: heard `arrive_min_reads` times over `arrive_settle_ms` (twice that,
    next to neighbours observing all that while, when the runner-up is within `hysteresis_db`),
    heard within the last `arrive_settle_ms`
    (a tag held while its neighbour was out, and not heard since it came back, has left), not
    silent for longer than a tag still there stays unheard (99.9 % at the prior's read rate:
    put down and picked up again; where its only evidence is a cross-read kept from the last
    round at the shelf it departed, silent there: `_heard_since`),
    not next to an unobserved location (what it heard may be cross-reads of a tag on the
    antenna that is not inventorying) nor, for a settle time, next to one short of reads
    (`_next_to_shadow`), and, if heard there far below the tags confirmed there
    (`_quiet_there`), only after twice the settle time."""
    forget: list[str] = []
    settle: list[tuple[Tag, Challenger]] = []
    for epc, tag in tentative.items():
        if now_ms - tag.first_ts_ms < cfg.arrive_settle_ms:
            continue  # too young (not `break`: a replayed queue adds tags first seen earlier)
        if _unobserved(tag, locs, now_ms - cfg.device_silence_ms):
            continue  # held while where it was heard is not observed (a reader outage)
        ch, lead_db = settle_location(tag, now_ms, cfg)
        if ch is None or now_ms - tag.last_ts_ms > cfg.max_window_ms:
            forget.append(epc)
            continue
        at, fresh_ms = locs[ch.location], now_ms - cfg.arrive_settle_ms
        if now_ms - _heard_since(tag, ch) > _stale_after_ms(at, cfg, rounds_per_s):
            continue  # unheard for that long: what it heard is stale (it may have left)
        if (
            tag.n_sum >= cfg.arrive_min_reads
            and not _near_unobserved(tag, locs, fresh_ms)
            and not _next_to_shadow(at, locs, fresh_ms)
            and (
                (lead_db >= cfg.hysteresis_db and not _quiet_there(ch, at))
                or _long_heard(tag, locs, now_ms, cfg)
            )
        ):
            settle.append((tag, ch))
    return forget, settle


def _heard_since(tag: Tag, ch: Challenger) -> int:
    """When the tentative tag was last heard, as evidence for settling it at `ch`: its latest
    read anywhere, unless `ch` has not heard it since it became tentative (what it has is a
    cross-read kept from the last round at the shelf it departed): then its last read there."""
    return ch.last_ms if ch.last_ms < tag.first_ts_ms else tag.last_ts_ms


def _stale_after_ms(loc: Loc, cfg: TrackerConfig, rounds_per_s: Callable[[Loc], float]) -> float:
    """How long a tentative tag may be unheard (up to the batch that asks) and still be settled
    at `loc`, its best location: a settle time, or less if a tag still there would have been
    heard with 99.9 % by then at the prior's read rate (put down and picked up again, or
    fading: a later read settles it, dated by its first)."""
    grace_ms = _resume_grace_ms(cfg.prior_read_prob, rounds_per_s(loc))
    return min(float(cfg.arrive_settle_ms), grace_ms)


def _long_heard(tag: Tag, locs: Mapping[str, Loc], now_ms: int, cfg: TrackerConfig) -> bool:
    """Has the tag been heard for twice the settle time, with every neighbour of where it was
    heard observing all that while? (A tag held while its shelf's neighbour was out has only the
    evidence gathered since the neighbour came back to weigh its cross-reads against.)"""
    since_ms = now_ms - 2 * cfg.arrive_settle_ms
    return tag.first_ts_ms <= since_ms and not _near_unobserved(tag, locs, since_ms)


def _unobserved(tag: Tag, locs: Mapping[str, Loc], since_ms: int) -> bool:
    """Is the tag unheard since before `since_ms`, and the location that heard it loudest
    unobserved since then too (its reader down, or its antenna out of `ants`)? Loudest: the
    most reads (decayed) as of its last read there, so a neighbour's occasional cross-reads
    meanwhile do not make it observed where it is."""
    ev = tag.ev
    if ev is None or tag.last_ts_ms >= since_ms:
        return False
    most = max(ev, key=lambda k: ev[k][CNT])
    return locs[most].seen_until_ms < since_ms


def _near_unobserved(tag: Tag, locs: Mapping[str, Loc], fresh_ms: int) -> bool:
    """Was the tag heard next to a location that is not observing or only just came back (see
    `unsure_at`)?"""
    assert tag.ev is not None
    return any(unsure_at(locs[key], locs, fresh_ms) for key in tag.ev)


def _quiet_there(ch: Challenger, loc: Loc) -> bool:
    """Is the tag heard at `loc` `_QUIET_DB` below the median of the tags confirmed there (at
    least `_QUIET_MIN_TAGS`)? Tags differ by a few dB; a cross-read is the margin weaker than a
    tag's own reads. A tag heard only that faintly may be one next door that its own antenna
    has not read yet (seed 220, p = 0.27: 3 s unread on its shelf, 4 reads next door at -72
    dBm, settled there and moved 3 s later): it waits for twice the settle time."""
    levels = sorted(own_mean_rssi(t) for t in loc.present.values() if t.cnt > 1e-9)
    if len(levels) < _QUIET_MIN_TAGS:
        return False
    return ch.mean_rssi_dbm < levels[len(levels) // 2] - _QUIET_DB


def _next_to_shadow(loc: Loc, locs: Mapping[str, Loc], fresh_ms: int) -> bool:
    """Was a neighbour of `loc` short of reads (shadowed or doubtful, `Loc.shadow_ms`) after
    `fresh_ms`? Someone in front of a shelf silences its antenna, not its neighbours' cross-reads
    of the tags on it: a tag put there meanwhile is heard next door only, as loud as a tag
    there at a low read rate (seed 222, p = 0.28: settled next door, moved back 3 s later)."""
    return any(locs[key].shadow_ms > fresh_ms for key in loc.neighbours)


def unsure_at(loc: Loc, locs: Mapping[str, Loc], fresh_ms: int) -> bool:
    """Can reads at `loc` be cross-reads of a tag on a neighbouring antenna that is not
    inventorying? True if a neighbour has none of its antennas in its reader's `ants`, or came
    back from a gap after `fresh_ms` (it has not yet gathered a settle time of evidence to weigh
    against what was heard while it was out). Neighbours are learned from the cross-reads of
    confirmed tags."""
    for key in loc.neighbours:
        near = locs[key]
        if not near.live_ports or (near.gap_from_ms > 0 and near.resume_ms > fresh_ms):
            return True
    return False


def arrival_ts(tag: Tag, loc: Loc, r_per_s: float, span_ms: int, cfg: TrackerConfig) -> int:
    """When a settled tag arrived at `loc`: its first loud read there, unless that came within
    the first rounds after `loc`'s antennas came back from a gap: then the tag was already
    there, since it was first heard anywhere (cross-reads during the gap), or else since an
    unknown time in the gap, dated to its end (the latest it can have arrived unseen: right if
    it came in the first rounds after the return too, and any time in the gap is as likely as
    another). The first rounds are those in which a tag already there is heard with 99.9 %: at
    the prior's read rate, or at the tag's own (the lower bound of all its reads since it was
    first heard, if that was after the return and higher: a loud tag first heard a second late
    came later), counted from the start of the batch its first read came in (`span_ms`, the
    reader's batch length: a read is dated by its last sight in the batch)."""
    first_ms = first_ts(tag, loc.key)
    if loc.gap_from_ms <= 0 or first_ms < loc.resume_ms:
        return first_ms
    held = tag.first_ts_ms < loc.resume_ms  # heard elsewhere before it: its reads are not here
    p = cfg.prior_read_prob
    if not held:
        heard_rounds = (tag.last_ts_ms - tag.first_ts_ms) * r_per_s / 1000.0 + 1.0
        p = max(p, prob_lower(tag.n_sum, heard_rounds, cfg))
    if first_ms - span_ms >= loc.resume_ms + _resume_grace_ms(p, r_per_s):
        return first_ms
    return tag.first_ts_ms if held else loc.resume_ms - 1


def moved_ts(
    ch: Challenger, to: Loc, home_last_ms: int, r_per_s: float, span_ms: int, cfg: TrackerConfig
) -> int:
    """When a tag silent at home (last heard there at `home_last_ms`) moved to `to`, where it is
    heard since `ch.since_ms`: then, unless that was within the first rounds after `to` came
    back from a gap that began after `home_last_ms`: then it got there during the gap (dated to
    the gap's end, as `arrival_ts` dates an arrival)."""
    since = ch.since_ms
    grace_ms = _resume_grace_ms(cfg.prior_read_prob, r_per_s) + span_ms
    if to.gap_from_ms > 0 and home_last_ms < to.resume_ms <= since < to.resume_ms + grace_ms:
        return max(home_last_ms, to.resume_ms - 1)
    return since


def _resume_grace_ms(p: float, r_per_s: float) -> float:
    """How long after a location comes back a tag already there, read with probability `p` per
    round, is heard with 99.9 %."""
    return 1000.0 * _RESUME_ROUNDS / -math.log1p(-p) / r_per_s


def first_ts(tag: Tag, key: str) -> int:
    """The start of the tag's latest loud run at `key` (its first sight if none)."""
    entry = tag.ev.get(key) if tag.ev is not None else None
    if entry is None or entry[STRONG_TS] <= 0:
        return tag.first_ts_ms
    return int(entry[STRONG_TS])
