"""The stock book: quantities, states, and unknown-never-zero."""

from __future__ import annotations

from ingest.stockbook import Cell, StockBook
from shelfsense.domain import StockState

MIN = {"shelf-1": 3, "shelf-2": None}


def book(**cells: Cell) -> StockBook:
    return StockBook(MIN.get, {(k, "shelf-1"): c for k, c in cells.items()})


def test_units_move_states_through_ok_low_out() -> None:
    b = book()
    b.add("TUNA", "shelf-1", 4, 10)
    assert b.cell("TUNA", "shelf-1") == Cell(4, StockState.OK, 10)
    b.add("TUNA", "shelf-1", -2, 20)
    assert b.cell("TUNA", "shelf-1") == Cell(2, StockState.LOW, 20)
    b.add("TUNA", "shelf-1", -5, 30)  # never below zero
    assert b.cell("TUNA", "shelf-1") == Cell(0, StockState.OUT, 30)
    changes = b.drain_changes()
    assert [(c.qty, c.state, c.ts_ms) for c in changes] == [
        (4, StockState.OK, 10),
        (2, StockState.LOW, 20),
        (0, StockState.OUT, 30),
    ]
    assert b.drain_changes() == []


def test_a_planogram_cell_starts_out_and_a_location_without_threshold_is_never_low() -> None:
    b = book()
    b.ensure("TUNA", "shelf-1", 5)
    assert b.cell("TUNA", "shelf-1") == Cell(0, StockState.OUT, 5)
    b.set_qty("COLA", "shelf-2", 1, 6)
    assert b.cell("COLA", "shelf-2") == Cell(1, StockState.OK, 6)


def test_unobservable_keeps_the_quantity_and_says_unknown() -> None:
    b = book(TUNA=Cell(5, StockState.OK, 1))
    b.set_unobservable({"shelf-1"}, 50)
    assert b.cell("TUNA", "shelf-1") == Cell(5, StockState.UNKNOWN, 50)
    b.add("TUNA", "shelf-1", -1, 60)  # a movement while unknown keeps it unknown
    assert b.cell("TUNA", "shelf-1") == Cell(4, StockState.UNKNOWN, 60)
    b.set_unobservable(set(), 70)
    assert b.cell("TUNA", "shelf-1") == Cell(4, StockState.OK, 70)
    changes = [(c.qty, c.state, c.ts_ms) for c in b.drain_changes()]
    assert changes == [  # every change, in order: stock_history keeps them all
        (5, StockState.UNKNOWN, 50),
        (4, StockState.UNKNOWN, 60),
        (4, StockState.OK, 70),
    ]


def test_nothing_changes_nothing_is_reported() -> None:
    b = book(TUNA=Cell(5, StockState.OK, 1))
    b.set_qty("TUNA", "shelf-1", 5, 9)
    b.set_unobservable(set(), 9)
    assert b.drain_changes() == []
