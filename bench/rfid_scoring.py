"""Scoring of tracker movements against the scenario's ground truth.

- Movements match one-to-one on (epc, kind, from, to) within `TOLERANCE_MS` of the true time,
  or at any distance when the location it concerns (the shelf a departure left, the one an
  arrival reached, either end of a move) was unobservable all the way between the true time and
  the reported one (but for the first `DARK_LEAD_S`: a departure seconds before an outage cannot
  be confirmed before it): a movement that happened during an outage can only be dated
  somewhere in it (the tracker dates it to the middle), and the data cannot say where.
- Two true movements of a tag around a stay of at most `BRIEF_STAY_MS` (arrive A + move A -> B,
  move A -> B + depart B, move A -> B + move B -> C), or around a stay on a shelf that was
  unobservable all through it, told as their net movement (an arrival at B, a departure from A,
  a move A -> C), are one event: a stay shorter than the settle time or a departure window, or
  on a shelf whose reader is down, is below what the reads resolve.
- A move A -> B and a departure from A plus an arrival at B of the same tag, all within the
  tolerance, are one event told two ways (a move across the store is a walk through no antenna's
  field; a move into a shelf that is not observing is a departure and, later, an arrival): they
  match as one event on both sides.
- Stock accuracy: at each checkpoint, every (sku, shelf) cell of the ledger built from the emitted
  movements *as of the checkpoint* (movement ts <= t, as `GET /stock?at=` answers) is compared with
  the truth; cells of locations that were not observable at t are left out (they read `unknown`),
  and so are cells whose truth changed within +-1 s of t (one batch: below the data's resolution).
  The cells a tag leaves are covered too (a departure's old cell).
- Departure latency: store time from the true departure to the moment the tracker emitted it,
  p50 and p95 over all matched departures, and p95 again over the *clear* ones: those whose
  location was observable from 3 s before the departure until it was emitted (a departure just
  before a reader outage cannot be seen until the reader is back; its latency measures the
  outage, not the tracker).
- False movements: unmatched emitted movements per 1,000 tag-hours of items on shelves; of them,
  *spurious* ones have no *unmatched* true movement of the same tag, kind and locations within
  `INVENTED_SPAN_MS` (they never happened, as opposed to a real movement dated too far off,
  which is what a departure during a long outage, dated to the outage's middle, becomes), nor
  are half of an unmatched true move (a departure from the shelf it left, or an arrival at the
  one it reached: a tag moved to a shelf and taken from it seconds later is told as one
  departure from the first shelf).
- Invented departures: unmatched departures from a location that had an outage within 60 s, of
  a tag that did not leave that location within 10 min (a real departure during a long outage,
  dated to the outage's middle, can miss the 60 s tolerance: it counts in precision and recall).
- Left out: true movements in the last `TAIL_MS` of the run (emitted ones too, but for those
  that match a true one in the tail: neither way), and those at a
  location that stays unobservable from then to the end of the run (no tracker could see them;
  one told anyway, as a portal exit tells a departure from a shelf whose reader is down, counts
  neither way; a move told from such a shelf to one where the tag truly arrived is that
  arrival: heard on its new shelf, the tag has left the old one; so is a move from a shelf
  that the tag truly left before the scored window began, unobservable since).
"""

from __future__ import annotations

import bisect
import itertools
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from rfid_scenario import World

from ingest.rfid_types import TagMovement

TOLERANCE_MS = 60_000
BRIEF_STAY_MS = 10_000  # a stay this short between two true movements may be told as their net
INVENTED_SPAN_MS = 600_000
TAIL_MS = 30_000  # movements in the run's last 30 s may not be decidable before it ends
CHECKPOINT_MS = 30_000
DARK_LEAD_S = 10  # longer than any departure window at p >= 0.3 (<= 7 s at 10 rounds/s)


@dataclass(frozen=True, slots=True)
class Score:
    precision: float
    recall: float
    f1: float
    stock_acc: float
    false_per_1k_h: float
    spurious_per_1k_h: float  # false movements with no missed true counterpart within 10 min
    lat_p50_s: float
    lat_p95_s: float
    lat_p95_clear_s: float  # departures whose location stayed observable (see above)
    invented: int
    n_true: int
    n_pred: int
    n_false: int  # unmatched emitted movements (false_per_1k_h's count)
    n_spurious: int  # of them, those that never happened (spurious_per_1k_h's count)
    false: tuple[tuple[TagMovement, bool], ...] = ()  # the unmatched ones, and if spurious


def score(
    world: World,
    emitted: Sequence[tuple[TagMovement, int]],
    warmup_ms: int,
    dark: dict[str, set[int]],
) -> Score:
    """`emitted`: (movement, emission ms); `dark`: location -> unobservable whole seconds."""
    since, until = world.start_ms + warmup_ms, world.end_ms - TAIL_MS
    lead = since - TOLERANCE_MS  # matched too, so movements near `since` find their partners
    tail = until + TOLERANCE_MS  # and near `until` (a real one just after it, dated before it)
    window = [m for m in world.truth if lead <= m.ts_ms < tail]
    unseeable = [m for m in window if _dark_to_end(m, world, dark)]
    truth = [m for m in window if not _dark_to_end(m, world, dark)]
    pred = [(m, at) for m, at in emitted if lead <= m.ts_ms < until]
    pairs, unmatched, missed = _match(truth, pred, dark)
    if unseeable:  # told although nothing had to see it (a portal exit, say): neither way
        _, unmatched, _ = _match(unseeable, [(m, 0) for m in unmatched], dark)
    pairs = [pair for pair in pairs if since <= pair[1] < until]
    early = [m for m in missed if m.ts_ms < since]  # type: ignore[attr-defined]
    _, _, unmatched = _compose(early, unmatched, dark)  # told for a truth before: neither way
    unmatched = [m for m in unmatched if m.ts_ms >= since]
    missed = [m for m in missed if since <= m.ts_ms < until]  # type: ignore[attr-defined]
    truth_moves, told_moves, unmatched = _compose(missed, unmatched, dark)
    # a move told from a shelf dark to the end, or dark since a departure before the scored
    # window, to where the tag truly arrived in it: the arrival's event
    halves, unmatched = _half_seen_moves(missed, unmatched, [*unseeable, *early], dark)
    n_true = sum(1 for m in truth if since <= m.ts_ms < until) - told_moves
    tp = len(pairs) + truth_moves + told_moves + halves
    n_pred = tp + len(unmatched)
    prec = tp / n_pred if n_pred else 1.0
    rec = tp / n_true if n_true else 1.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    departures = [(t_ms, at, key) for kind, t_ms, at, key in pairs if kind == "depart"]
    lat = sorted((at - t_ms) / 1000.0 for t_ms, at, _ in departures)
    clear = sorted(
        (at - t_ms) / 1000.0
        for t_ms, at, key in departures
        if not any(k in dark.get(key or "", ()) for k in range(t_ms // 1000 - 3, at // 1000 + 1))
    )
    hours = tag_hours(world, since)
    false = tuple((m, not _happened(m, missed)) for m in unmatched)
    n_spurious = sum(1 for _, spurious in false if spurious)
    invented = sum(
        1
        for m in unmatched
        if m.kind == "depart" and _near_dark(m, dark) and not _left_then(m, world.truth)
    )
    return Score(
        prec,
        rec,
        f1,
        _stock_accuracy(world, [m for m, _ in emitted], since, dark),
        1000.0 * len(unmatched) / hours if hours else 0.0,
        1000.0 * n_spurious / hours if hours else 0.0,
        _pct(lat, 0.5),
        _pct(lat, 0.95),
        _pct(clear, 0.95),
        invented,
        n_true,
        n_pred,
        len(unmatched),
        n_spurious,
        false,
    )


def _match(
    truth: Sequence[object],
    pred: Sequence[tuple[TagMovement, int]],
    dark: dict[str, set[int]] | None = None,
) -> tuple[list[tuple[str, int, int, str | None]], list[TagMovement], list[object]]:
    pool: dict[tuple[object, ...], list[tuple[int, int]]] = defaultdict(list)
    for i, (m, _) in enumerate(pred):
        pool[(m.epc, m.kind.value, m.from_location, m.to_location)].append((m.ts_ms, i))
    used: set[int] = set()
    pairs: list[tuple[str, int, int, str | None]] = []
    missed: list[object] = []
    for t in truth:
        key = (t.epc, t.kind, t.from_location, t.to_location)  # type: ignore[attr-defined]
        cands = [(abs(ts - t.ts_ms), i) for ts, i in pool.get(key, []) if i not in used]  # type: ignore[attr-defined]
        cands = [
            c
            for c in cands
            if c[0] <= TOLERANCE_MS or _dark_between(key, t.ts_ms, pred[c[1]][0].ts_ms, dark)  # type: ignore[attr-defined]
        ]
        best = min(cands, default=None)
        if best is None:
            missed.append(t)
        else:
            used.add(best[1])
            at = pred[best[1]][1]
            pairs.append((t.kind, t.ts_ms, at, t.from_location))  # type: ignore[attr-defined]
    return pairs, [m for i, (m, _) in enumerate(pred) if i not in used], missed


def _compose(
    missed: Sequence[object], left: Sequence[TagMovement], dark: dict[str, set[int]]
) -> tuple[int, int, list[TagMovement]]:
    """Match moves told as a departure plus an arrival (either way round). Returns the true
    moves and the tracker's moves matched so, and the tracker's movements still unmatched."""
    left = list(left)

    def near(a_ms: int, b_ms: int, loc: str | None) -> bool:
        return abs(a_ms - b_ms) <= TOLERANCE_MS or _dark_between(("", "", loc), a_ms, b_ms, dark)

    def take(epc: str, kind: str, loc: str | None, ts_ms: int, pool: list[Any]) -> bool:
        for i, m in enumerate(pool):
            m_kind = m.kind if isinstance(m.kind, str) else m.kind.value
            m_loc = m.from_location if kind == "depart" else m.to_location
            if m.epc == epc and m_kind == kind and m_loc == loc and near(m.ts_ms, ts_ms, loc):
                del pool[i]
                return True
        return False

    truth_moves = 0
    remaining: list[Any] = list(missed)
    for t in list(remaining):
        if getattr(t, "kind", None) != "move":
            continue
        epc, a, b, ts = t.epc, t.from_location, t.to_location, t.ts_ms
        trial: list[Any] = list(left)
        if take(epc, "depart", a, ts, trial) and take(epc, "arrive", b, ts, trial):
            left, truth_moves = trial, truth_moves + 1
            remaining.remove(t)
    told_moves = 0
    for m in [m for m in left if m.kind.value == "move"]:
        trial = list(remaining)
        if take(m.epc, "depart", m.from_location, m.ts_ms, trial) and take(
            m.epc, "arrive", m.to_location, m.ts_ms, trial
        ):
            remaining, told_moves = trial, told_moves + 1
            left.remove(m)
    told_moves += _match_brief_stays(left, remaining, dark)
    return truth_moves, told_moves, left


def _half_seen_moves(
    missed: Sequence[Any], left: Sequence[TagMovement], unseeable: Sequence[Any], dark: Any
) -> tuple[int, list[TagMovement]]:
    """Match moves told for a departure nothing had to see (from a shelf dark to the end, or one
    before the scored window) and a missed arrival: the tag is heard on its new shelf, so it left
    the old one (one event, the arrival's). Returns how many, and the tracker's movements still
    unmatched. Each true arrival is taken once (`missed` is not changed: the caller no longer
    uses it)."""
    arrivals = [t for t in missed if t.kind == "arrive"]
    gone = [t for t in unseeable if t.kind == "depart"]
    still: list[TagMovement] = []
    matched = 0
    for m in left:
        if m.kind.value == "move":
            arr = _near_one(m, arrivals, m.to_location, "to_location", dark)
            dep = _near_one(m, gone, m.from_location, "from_location", dark)
            if arr is not None and dep is not None:
                arrivals.remove(arr)
                gone.remove(dep)
                matched += 1
                continue
        still.append(m)
    return matched, still


def _near_one(m: TagMovement, pool: Sequence[Any], loc: str | None, field: str, dark: Any) -> Any:
    for t in pool:
        if (
            t.epc == m.epc
            and getattr(t, field) == loc
            and (
                abs(t.ts_ms - m.ts_ms) <= TOLERANCE_MS
                or _dark_between(("", "", loc), t.ts_ms, m.ts_ms, dark)
            )
        ):
            return t
    return None


def _match_brief_stays(
    left: list[TagMovement], remaining: list[Any], dark: dict[str, set[int]]
) -> int:
    """Remove the movements told as the net of a brief or unseen stay (and its two true ones)."""
    matched = 0
    for m in list(left):
        pair = _brief_stay(m, remaining, dark)
        if pair is not None:
            for t in pair:
                remaining.remove(t)
            matched += 1
            left.remove(m)
    return matched


def _brief_stay(
    m: TagMovement, missed: Sequence[Any], dark: dict[str, set[int]] | None = None
) -> tuple[Any, Any] | None:
    """Two missed true movements of the tag around a stay that the reads cannot resolve, near
    `m`, whose net is `m`: arrive A + move A->B is an arrival at B, move A->B + depart B a
    departure from A, move A->B + move B->C a move A->C. A stay cannot be resolved if it is
    `BRIEF_STAY_MS` at most (shorter than a settle time or a departure window) or the shelf it
    was on was unobservable all through it (its reader down: the tag was on no antenna that
    could hear it). Near: `m` within the tolerance of either true movement, or a location of
    the net unobservable all the way between `m` and the first (a movement in an outage is
    dated into it)."""
    mine = sorted((t for t in missed if t.epc == m.epc), key=lambda t: t.ts_ms)
    for first, second in itertools.pairwise(mine):
        if first.to_location != second.from_location:
            continue
        if second.ts_ms - first.ts_ms > BRIEF_STAY_MS and not _dark_all(
            first.to_location, first.ts_ms, second.ts_ms, dark
        ):
            continue
        net = (first.from_location, second.to_location)
        if net != (m.from_location, m.to_location) or net[0] == net[1]:
            continue
        if min(
            abs(m.ts_ms - second.ts_ms), abs(m.ts_ms - first.ts_ms)
        ) <= TOLERANCE_MS or _dark_between(("", "", *net), m.ts_ms, first.ts_ms, dark):
            return first, second
    return None


def _dark_all(loc: str | None, a_ms: int, b_ms: int, dark: dict[str, set[int]] | None) -> bool:
    """Was `loc` unobservable every second from a_ms to b_ms?"""
    secs = dark.get(loc) if dark and loc is not None else None
    return secs is not None and all(k in secs for k in range(a_ms // 1000, b_ms // 1000 + 1))


def _dark_between(
    key: tuple[object, ...], a_ms: int, b_ms: int, dark: dict[str, set[int]] | None
) -> bool:
    """Was a location of the movement unobservable every second from a_ms to b_ms, but for the
    first `DARK_LEAD_S` (a departure that close to an outage cannot be confirmed before it)?"""
    if not dark:
        return False
    lo, hi = min(a_ms, b_ms) // 1000, max(a_ms, b_ms) // 1000
    for loc in key[2:]:
        secs = dark.get(loc) if isinstance(loc, str) else None
        if secs is not None and all(k in secs for k in range(lo + DARK_LEAD_S, hi + 1)):
            return True
    return False


def _pct(xs: Sequence[float], q: float) -> float:
    if not xs:
        return float("nan")
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def _dark_to_end(m: object, world: World, dark: dict[str, set[int]]) -> bool:
    """A true movement at a location unobservable from its time to the end of the run: nothing
    could have seen it (it reads `unknown`), so it is not counted either way."""
    s0, s1 = m.ts_ms // 1000, world.end_ms // 1000  # type: ignore[attr-defined]
    for key in (m.from_location, m.to_location):  # type: ignore[attr-defined]
        secs = dark.get(key or "")
        if secs is not None and all(k in secs for k in range(s0, s1)):
            return True
    return False


def _left_then(m: TagMovement, truth: Sequence[object]) -> bool:
    """The tag did leave that location within `INVENTED_SPAN_MS` (a real departure dated into
    an outage too far from the truth to match, not an invented one)."""
    return any(
        t.epc == m.epc  # type: ignore[attr-defined]
        and t.from_location == m.from_location  # type: ignore[attr-defined]
        and t.kind in ("depart", "move")  # type: ignore[attr-defined]
        and abs(t.ts_ms - m.ts_ms) <= INVENTED_SPAN_MS  # type: ignore[attr-defined]
        for t in truth
    )


def _happened(m: TagMovement, truth: Sequence[object]) -> bool:
    """A true movement of the same tag, kind and locations within `INVENTED_SPAN_MS`, or the
    half of a true move that the movement tells (a departure from the shelf a true move left, an
    arrival at the one it reached: the tag did leave, or reach, that shelf then), or, for a
    move A -> B, true movements that left A and reached B (a departure and, minutes later, an
    arrival told late as one move: it happened, mis-dated)."""
    kind = m.kind.value
    mine = [
        t
        for t in truth
        if t.epc == m.epc and abs(t.ts_ms - m.ts_ms) <= INVENTED_SPAN_MS  # type: ignore[attr-defined]
    ]
    if any(
        (t.kind, t.from_location, t.to_location) == (kind, m.from_location, m.to_location)  # type: ignore[attr-defined]
        or (kind == "depart" and t.kind == "move" and t.from_location == m.from_location)  # type: ignore[attr-defined]
        or (kind == "arrive" and t.kind == "move" and t.to_location == m.to_location)  # type: ignore[attr-defined]
        for t in mine
    ):
        return True
    if kind != "move":
        return False
    left = any(t.kind in ("depart", "move") and t.from_location == m.from_location for t in mine)  # type: ignore[attr-defined]
    reached = any(t.kind in ("arrive", "move") and t.to_location == m.to_location for t in mine)  # type: ignore[attr-defined]
    return left and reached


def _near_dark(m: TagMovement, dark: dict[str, set[int]]) -> bool:
    secs = dark.get(m.from_location or "", set())
    s = m.ts_ms // 1000
    return any(k in secs for k in range(s - 60, s + 61))


def tag_hours(world: World, since: int) -> float:
    where: dict[str, tuple[str | None, int]] = {}
    total_ms = 0
    for t, epc, key in world.changes:
        old, t_old = where.get(epc, (None, t))
        if old in world.planogram:
            total_ms += max(0, t - max(t_old, since))
        where[epc] = (key, t)
    for old, t_old in where.values():
        if old in world.planogram:
            total_ms += max(0, world.end_ms - max(t_old, since))
    return total_ms / 3_600_000


def _stock_accuracy(
    world: World, ledger: Iterable[TagMovement], since: int, dark: dict[str, set[int]]
) -> float:
    shelves = set(world.planogram)
    deltas = sorted(
        ((m.ts_ms, m.epc, m.from_location, m.to_location) for m in ledger), key=lambda d: d[0]
    )
    truth = sorted(world.changes, key=lambda c: c[0])
    times_t = [c[0] for c in truth]
    est: Counter[tuple[str, str]] = Counter()
    where: dict[str, str | None] = {}
    i_d = i_t = ok = total = 0
    for t in range(since, world.end_ms - 60_000, CHECKPOINT_MS):
        while i_d < len(deltas) and deltas[i_d][0] <= t:
            _apply_delta(est, deltas[i_d], world, shelves)
            i_d += 1
        while i_t < len(truth) and truth[i_t][0] <= t:
            where[truth[i_t][1]] = truth[i_t][2]
            i_t += 1
        true = Counter(
            (world.sku_of[e], k) for e, k in where.items() if k is not None and k in shelves
        )
        cells = {c for c, v in est.items() if v} | set(true)
        cells |= {(sku, s) for s, sku in world.planogram.items()}
        settling = _changed_near(truth, times_t, t, world)
        for cell in cells:
            if t // 1000 in dark.get(cell[1], set()) or cell in settling:
                continue
            total += 1
            ok += est.get(cell, 0) == true.get(cell, 0)
    return ok / total if total else 1.0


def _apply_delta(
    cells: Counter[tuple[str, str]],
    delta: tuple[int, str, str | None, str | None],
    world: World,
    shelves: set[str],
) -> None:
    _, epc, frm, to = delta
    sku = world.sku_of.get(epc, "?")
    if frm in shelves:
        cells[(sku, frm)] -= 1
    if to in shelves:
        cells[(sku, to)] += 1


def _changed_near(
    truth: Sequence[tuple[int, str, str | None]], times: list[int], t: int, world: World
) -> set[tuple[str, str | None]]:
    """Cells with a true change within one batch (1 s) of t: unknowable at batch resolution."""
    lo, hi = bisect.bisect_left(times, t - 1000), bisect.bisect_right(times, t + 1000)
    out: set[tuple[str, str | None]] = set()
    for _, epc, key in truth[lo:hi]:
        out.add((world.sku_of[epc], key))
    return out
