"""First-expiry-first-out consumption of weight-shelf lots."""

from __future__ import annotations

from datetime import date

from ingest.lots import LotQty, consume_fefo, on_shelf

A = LotQty(1, date(2025, 12, 1), 4)  # expires first
B = LotQty(2, date(2025, 12, 5), 6)
C = LotQty(3, date(2025, 12, 1), 2)  # same day as A, received later


def test_picks_come_from_the_earliest_expiry_then_the_earliest_lot() -> None:
    assert consume_fefo([B, C, A], 5) == [LotQty(1, A.expiry, 0), LotQty(3, C.expiry, 1)]


def test_picks_beyond_the_lots_change_only_the_lots() -> None:
    assert consume_fefo([A], 10) == [LotQty(1, A.expiry, 0)]
    assert consume_fefo([A], 0) == []


def test_a_shelf_holding_fewer_units_caps_its_lots_fefo() -> None:
    """12 units in lots but 7 on the shelf: the 5 missing come off the oldest first."""
    assert on_shelf([A, B, C], 7) == [LotQty(1, A.expiry, 0), LotQty(3, C.expiry, 1), B]
    assert on_shelf([A, B], 20) == [A, B]
