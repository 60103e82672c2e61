"""PURE reconciliation of a weight shelf's count with the RFID tags on it.

RFID says which items, weight says how many. For every cell a scale counts (``ingest.ownership``)
the scale's units are compared with the tags of that sku that RFID has confirmed on that
location. When both sides are known and differ, a disagreement starts; ``due`` reports it once
it has lasted ``after_s`` of event time (an RFID departure takes a few seconds to confirm, a
scale settles in about one). It ends as soon as the two agree again or either side becomes
unknown (``None``: the scale cannot tell, or the location is not observable by RFID).

``Reconciler.update`` is the only state: since when each cell disagrees. A disagreement seen
for the first time dates from the latest change of either side (``CellCounts.changed_ms``), not
from when it was evaluated, so it does not depend on how batches were grouped. Time is an
argument.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ingest.stockbook import CellKey

EPC_EXAMPLES = 20


@dataclass(frozen=True, slots=True)
class CellCounts:
    """Both sides of one scale-counted cell now."""

    sku: str
    location: str
    weight_units: int | None  # None while the scale cannot tell
    epcs: frozenset[str] | None  # tags of the sku confirmed there; None: RFID cannot tell
    changed_ms: int | None = None  # either side last changed (None: now); no older disagreement


@dataclass(frozen=True, slots=True)
class Disagreement:
    sku: str
    location: str
    weight_units: int
    rfid_units: int
    epcs: tuple[str, ...]  # sorted, the first EPC_EXAMPLES
    since_ms: int  # event time the two sides began to differ


class Reconciler:
    """Since when each scale-counted cell of one site disagrees with RFID."""

    def __init__(self) -> None:
        self._since_ms: dict[CellKey, int] = {}

    def update(self, counts: Iterable[CellCounts], now_ms: int) -> list[Disagreement]:
        """Every disagreement open now (whether or not it lasted long enough to report)."""
        found: list[Disagreement] = []
        since: dict[CellKey, int] = {}
        for c in counts:
            if c.weight_units is None or c.epcs is None or c.weight_units == len(c.epcs):
                continue
            key = (c.sku, c.location)
            began_ms = now_ms if c.changed_ms is None else min(c.changed_ms, now_ms)
            since[key] = self._since_ms.get(key, began_ms)
            epcs = tuple(sorted(c.epcs)[:EPC_EXAMPLES])
            found.append(
                Disagreement(c.sku, c.location, c.weight_units, len(c.epcs), epcs, since[key])
            )
        self._since_ms = since
        return sorted(found, key=lambda d: (d.location, d.sku))


def due(disagreements: Sequence[Disagreement], now_ms: int, after_s: float) -> list[Disagreement]:
    """The disagreements that have lasted ``after_s`` at ``now_ms``."""
    return [d for d in disagreements if now_ms - d.since_ms >= after_s * 1000]
