"""PURE cell ownership: which source counts a (sku, location) stock cell.

RFID says which items, weight says how many. A cell watched by a weight shelf (the scale's
``location`` and ``sku``) is counted by the scale only: RFID movements of that sku into or out
of that location are still movements (audit, tag positions, misplaced tags), but they do not
change the cell's quantity. Every other cell on a stock location is counted by RFID, one unit
per tag. ``book_effects`` is the one place where effects reach the stock book, so the live
engine books by this rule; a replay after a crash books nothing (the stock book is reloaded from
the database and replayed effects are ignored), so the two cannot disagree.
"""

from __future__ import annotations

from ingest.catalog import SiteCatalog
from ingest.effects import Effects
from ingest.stockbook import StockBook
from shelfsense.domain import MovementSource


def rfid_counts(catalog: SiteCatalog, sku: str, location: str | None) -> bool:
    """RFID movements change this cell's quantity: a stock location no scale counts."""
    return (
        location is not None
        and catalog.holds_stock(location)
        and (sku, location) not in catalog.scale_cells
    )


def book_effects(book: StockBook, catalog: SiteCatalog, effects: Effects) -> None:
    """Apply one input's effects to the stock book by the ownership rule."""
    for m in effects.movements:
        if m.source != MovementSource.RFID or m.sku is None:
            continue
        if rfid_counts(catalog, m.sku, m.from_location):
            assert m.from_location is not None
            book.add(m.sku, m.from_location, -1, m.ts_ms)
        if rfid_counts(catalog, m.sku, m.to_location):
            assert m.to_location is not None
            book.add(m.sku, m.to_location, +1, m.ts_ms)
    for count in effects.scale_counts:
        if count.units is not None:
            book.set_qty(count.sku, count.location, count.units, count.ts_ms)
