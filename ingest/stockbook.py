"""PURE current stock of one site: cells per (sku, location) with quantity and state.

RFID movements add and remove single units; a weight shelf sets its cell's quantity outright
(the scale counts what is on it). A cell on a location that is not observable now is
``unknown`` and keeps its last quantity: absence of evidence is not departure.
``drain_changes()`` hands out every change since the last call, once, in order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from shelfsense.domain import StockState, stock_state


@dataclass(frozen=True, slots=True)
class Cell:
    qty: int
    state: StockState
    updated_ms: int


@dataclass(frozen=True, slots=True)
class CellChange:
    """A cell's new quantity and state at ``ts_ms``; ``delta`` is the quantity change, which
    is what history needs when the change is dated before changes already recorded."""

    sku: str
    location: str
    qty: int
    state: StockState
    ts_ms: int
    delta: int = 0


CellKey = tuple[str, str]  # (sku, location)


class StockBook:
    def __init__(
        self,
        min_qty: Callable[[str], int | None],
        cells: Mapping[CellKey, Cell] | None = None,
    ) -> None:
        self._min_qty = min_qty
        self._cells: dict[CellKey, Cell] = dict(cells or {})
        self._unobservable: set[str] = set()
        self._changed: list[CellChange] = []

    def cell(self, sku: str, location: str) -> Cell | None:
        return self._cells.get((sku, location))

    def cells(self) -> Mapping[CellKey, Cell]:
        return self._cells

    def ensure(self, sku: str, location: str, ts_ms: int) -> None:
        """A planogram cell exists from the start (an empty planned shelf is ``out``)."""
        if (sku, location) not in self._cells:
            self._put(sku, location, 0, ts_ms)

    def add(self, sku: str, location: str, delta: int, ts_ms: int) -> None:
        current = self._cells.get((sku, location))
        qty = (current.qty if current else 0) + delta
        self._put(sku, location, max(qty, 0), ts_ms)

    def set_qty(self, sku: str, location: str, qty: int, ts_ms: int) -> None:
        self._put(sku, location, qty, ts_ms)

    def set_unobservable(self, locations: Iterable[str], ts_ms: int) -> None:
        """Replace the set of locations whose stock is unknown; restates affected cells."""
        new = set(locations)
        flipped = new ^ self._unobservable
        self._unobservable = new
        if not flipped:
            return
        for (sku, location), cell in list(self._cells.items()):
            if location in flipped:
                self._put(sku, location, cell.qty, max(ts_ms, cell.updated_ms))

    def set_location_observable(self, location: str, observable: bool, ts_ms: int) -> None:
        wanted = set(self._unobservable)
        (wanted.discard if observable else wanted.add)(location)
        self.set_unobservable(wanted, ts_ms)

    def is_observable(self, location: str) -> bool:
        return location not in self._unobservable

    def drain_changes(self) -> list[CellChange]:
        """Every change since the last call, in order (a cell may appear more than once)."""
        changes, self._changed = self._changed, []
        return changes

    def _put(self, sku: str, location: str, qty: int, ts_ms: int) -> None:
        state = stock_state(qty, self._min_qty(location), observable=self.is_observable(location))
        old = self._cells.get((sku, location))
        if old is not None and old.qty == qty and old.state == state:
            return
        self._cells[(sku, location)] = Cell(qty, state, ts_ms)
        delta = qty - (old.qty if old is not None else 0)
        self._changed.append(CellChange(sku, location, qty, state, ts_ms, delta))
