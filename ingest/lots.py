"""PURE first-expiry-first-out consumption of weight-shelf lots.

A weight shelf knows how many units left it, not which ones; shoppers and staff are expected to
take the oldest stock first, so ``consume_fefo`` takes picked units from the lot of that
(sku, location) that expires first (ties: the lot received first, i.e. the lower ``lot_id``).
Units beyond what the lots hold were never received as a lot and change no lot.

``cap_to_shelf`` keeps lots honest when a shelf holds fewer units than its lots say (units went
without a detected pick): the excess is taken FEFO as well, so an expired lot never claims more
units than are physically there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date


@dataclass(frozen=True, slots=True)
class LotQty:
    lot_id: int
    expiry: date
    remaining: int


def fefo_order(lots: Sequence[LotQty]) -> list[LotQty]:
    return sorted(lots, key=lambda lot: (lot.expiry, lot.lot_id))


def consume_fefo(lots: Sequence[LotQty], units: int) -> list[LotQty]:
    """The lots whose remaining quantity changed, with their new quantity, in FEFO order."""
    changed = []
    left = max(units, 0)
    for lot in fefo_order(lots):
        if left == 0:
            break
        take = min(lot.remaining, left)
        if take > 0:
            changed.append(replace(lot, remaining=lot.remaining - take))
            left -= take
    return changed


def cap_to_shelf(lots: Sequence[LotQty], shelf_units: int) -> list[LotQty]:
    """Consume FEFO whatever the lots hold beyond ``shelf_units``; the changed lots."""
    excess = sum(lot.remaining for lot in lots) - max(shelf_units, 0)
    return consume_fefo(lots, excess) if excess > 0 else []


def on_shelf(lots: Sequence[LotQty], shelf_units: int) -> list[LotQty]:
    """Every lot with what of it can really be on a shelf holding ``shelf_units`` (FEFO cap)."""
    changed = {lot.lot_id: lot for lot in cap_to_shelf(lots, shelf_units)}
    return [changed.get(lot.lot_id, lot) for lot in fefo_order(lots)]
