"""Scoring of tracker movements against the scenario's ground truth.

- Movements match one-to-one on (epc, kind, from, to) within `TOLERANCE_MS` of the true time.
- Stock accuracy: at each checkpoint, every (sku, shelf) cell of the ledger built from the emitted
  movements *as of the checkpoint* (movement ts <= t, as `GET /stock?at=` answers) is compared with
  the truth; cells of locations that were not observable at t are left out (they read `unknown`),
  and so are cells whose truth changed within +-1 s of t (one batch: below the data's resolution).
  The cells a tag leaves are covered too (a departure's old cell).
- Departure latency: store time from the true departure to the moment the tracker emitted it.
- False movements: unmatched emitted movements per 1,000 tag-hours of items on shelves.
- Invented departures: unmatched departures from a location that had an outage within 60 s, of
  a tag that did not leave that location within 10 min (a real departure during a long outage,
  dated to the outage's middle, can miss the 60 s tolerance: it counts in precision and recall).
- Left out: true movements in the last `TAIL_MS` of the run (emitted ones too), and those at a
  location that stays unobservable from then to the end of the run (no tracker could see them).
"""

from __future__ import annotations

import bisect
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rfid_scenario import World

from ingest.rfid_types import TagMovement

TOLERANCE_MS = 60_000
INVENTED_SPAN_MS = 600_000
TAIL_MS = 30_000  # movements in the run's last 30 s may not be decidable before it ends
CHECKPOINT_MS = 30_000


@dataclass(frozen=True, slots=True)
class Score:
    precision: float
    recall: float
    f1: float
    stock_acc: float
    false_per_1k_h: float
    lat_p50_s: float
    lat_p95_s: float
    invented: int
    n_true: int
    n_pred: int


def score(
    world: World,
    emitted: Sequence[tuple[TagMovement, int]],
    warmup_ms: int,
    dark: dict[str, set[int]],
) -> Score:
    """`emitted`: (movement, emission ms); `dark`: location -> unobservable whole seconds."""
    since, until = world.start_ms + warmup_ms, world.end_ms - TAIL_MS
    lead = since - TOLERANCE_MS  # matched too, so movements near `since` find their partners
    truth = [m for m in world.truth if lead <= m.ts_ms < until and not _dark_to_end(m, world, dark)]
    pred = [(m, at) for m, at in emitted if lead <= m.ts_ms < until]
    pairs, unmatched = _match(truth, pred)
    pairs = [pair for pair in pairs if pair[1] >= since]
    unmatched = [m for m in unmatched if m.ts_ms >= since]
    n_true = sum(1 for m in truth if m.ts_ms >= since)
    tp, n_pred = len(pairs), len(pairs) + len(unmatched)
    prec = tp / n_pred if n_pred else 1.0
    rec = tp / n_true if n_true else 1.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    lat = sorted((at - t_ms) / 1000.0 for kind, t_ms, at in pairs if kind == "depart")
    hours = _tag_hours(world, since)
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
        _pct(lat, 0.5),
        _pct(lat, 0.95),
        invented,
        n_true,
        n_pred,
    )


def _match(
    truth: Sequence[object], pred: Sequence[tuple[TagMovement, int]]
) -> tuple[list[tuple[str, int, int]], list[TagMovement]]:
    pool: dict[tuple[object, ...], list[tuple[int, int]]] = defaultdict(list)
    for i, (m, _) in enumerate(pred):
        pool[(m.epc, m.kind.value, m.from_location, m.to_location)].append((m.ts_ms, i))
    used: set[int] = set()
    pairs: list[tuple[str, int, int]] = []
    for t in truth:
        key = (t.epc, t.kind, t.from_location, t.to_location)  # type: ignore[attr-defined]
        cands = [(abs(ts - t.ts_ms), i) for ts, i in pool.get(key, []) if i not in used]  # type: ignore[attr-defined]
        best = min(cands, default=None)
        if best is not None and best[0] <= TOLERANCE_MS:
            used.add(best[1])
            pairs.append((t.kind, t.ts_ms, pred[best[1]][1]))  # type: ignore[attr-defined]
    return pairs, [m for i, (m, _) in enumerate(pred) if i not in used]


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


def _near_dark(m: TagMovement, dark: dict[str, set[int]]) -> bool:
    secs = dark.get(m.from_location or "", set())
    s = m.ts_ms // 1000
    return any(k in secs for k in range(s - 60, s + 61))


def _tag_hours(world: World, since: int) -> float:
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
