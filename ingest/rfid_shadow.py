"""PURE shelf-wide shortfall over one tag's silence: is its shelf shadowed, or is the tag gone?

`ingest.rfid_state.degradation` judges each batch on ~10 and ~40 recent rounds of the reads of
the shelf's *active* tags (read within ~20 rounds). On a shelf with few tags at a low read rate a
60 % occlusion (someone standing in front of it for seconds) stays below its significance, and
the tags it silences drop out of the active ones, so the expectation shrinks with the reads (five
tags at p = 0.28: the shortfall's z peaked at 2.7, then fell as tags went quiet, and one tag
departed after its full 52-round window, to arrive again 3 s later).

So before a tag that missed its window is departed, the question is asked once more, over the
whole of its silence: the shelf's other tags read since it fell silent got how many reads
meanwhile, against the location's learned rate? It is asked only if some batch of the silence
was judged short of reads (shadowed or doubtful, `Loc.shadow_ms`): tags that left since count
among those others, unread, and several tags leaving in turn (each read last just after the
one before) would otherwise hold each other's departures. If significantly fewer (15 % short
and z > 3, `ingest.rfid_state.shadow_ratio`, as `degradation` asks), the silence is weighed
at that share: rho = reads/expected turns `raw` rounds into raw * ln(1 - p*rho) / ln(1 - p)
rounds at the tag's own p, and the tag departs only once those reach its window. The rounds and
reads of each batch are kept per location (`Loc.trail`, raw rounds: the clock is already
slowed where `degradation` saw a shadow) for as far back as the longest window.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from ingest.rfid_state import Loc, Tag, shadow_ratio


def note_batch(loc: Loc, rounds: float, reads: int, keep_rounds: float) -> None:
    """Record one batch's raw rounds and confirmed-tag reads at `loc` (after its clock moved)."""
    loc.raw_rounds += rounds
    loc.reads_total += reads
    trail = loc.trail
    trail.append((loc.clock, loc.raw_rounds, loc.reads_total))
    while trail and loc.raw_rounds - trail[0][1] > keep_rounds:
        trail.popleft()


def silence_rounds(loc: Loc, tag: Tag, p: float, missed: float) -> float:
    """The tag's `missed` rounds, or fewer if its shelf's other tags fell significantly short of
    reads over its silence (weighed at the share they got)."""
    if loc.shadow_ms < tag.last_ts_ms:
        return missed  # no batch of its silence was short of reads: tags left, no shadow came
    since = max(tag.seen_clock, loc.resume_clock)
    start = _at(loc, since)
    if start is None or loc.rate <= 0.0:
        return missed
    _, raw0, reads0 = start
    raw = loc.raw_rounds - raw0
    others = _read_lately(loc.present.values(), tag, since)
    expected = loc.rate * others * raw
    rho = shadow_ratio(loc.reads_total - reads0, expected, loc.rate)
    if rho >= 1.0:
        return missed
    return min(missed, raw * math.log1p(-p * rho) / math.log1p(-p))


def _at(loc: Loc, clock: float) -> tuple[float, float, float] | None:
    """The first batch end at or after `clock` (None: not kept, or none yet)."""
    found = None
    for entry in reversed(loc.trail):
        if entry[0] < clock:
            break
        found = entry
    return found


def _read_lately(present: Iterable[Tag], tag: Tag, since_clock: float) -> int:
    return sum(1 for t in present if t is not tag and t.seen_clock > since_clock)
