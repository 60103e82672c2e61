"""Weight shelves vs RFID: cell ownership, the pure reconciler and the count_mismatch rule."""

from __future__ import annotations

from ingest.alert_rules import SiteFacts, evaluate
from ingest.catalog import Antenna, DeviceInfo, LocationInfo, SiteCatalog
from ingest.effects import Effects, MovementRow, ScaleCount
from ingest.ownership import book_effects
from ingest.reconcile import CellCounts, Disagreement, Reconciler, due
from ingest.stockbook import StockBook
from shelfsense.alerting import AlertType, effective_rules
from shelfsense.domain import DeviceKind, LocationKind, MovementKind, MovementSource

SHELF = "floor/aisle-1/shelf-1"
OTHER = "floor/aisle-1/shelf-2"
T0 = 1_763_719_200_000
EPCS = frozenset({"E1", "E2", "E3"})
AFTER_S = 30


def _counts(weight: int | None, epcs: frozenset[str] | None = EPCS) -> list[CellCounts]:
    return [CellCounts("TUNA", SHELF, weight, epcs)]


# -- the pure reconciler ----------------------------------------------------------------------
def test_agreement_is_no_disagreement() -> None:
    rec = Reconciler()
    assert rec.update(_counts(3), T0) == []
    assert rec.update(_counts(3), T0 + 60_000) == []


def test_a_short_disagreement_is_not_due() -> None:
    rec = Reconciler()
    rec.update(_counts(3), T0)
    ongoing = rec.update(_counts(2), T0 + 1_000)
    assert len(ongoing) == 1
    ongoing = rec.update(_counts(2), T0 + 30_999)
    assert due(ongoing, T0 + 30_999, AFTER_S) == []


def test_a_lasting_disagreement_is_due_once_with_its_numbers() -> None:
    rec = Reconciler()
    rec.update(_counts(2), T0)
    rec.update(_counts(2), T0 + 10_000)
    ongoing = rec.update(_counts(2), T0 + 30_000)
    assert due(ongoing, T0 + 30_000, AFTER_S) == [
        Disagreement("TUNA", SHELF, 2, 3, ("E1", "E2", "E3"), T0)
    ]


def test_unknown_on_either_side_is_no_disagreement_and_ends_one() -> None:
    rec = Reconciler()
    assert rec.update(_counts(None), T0) == []
    assert rec.update(_counts(2, None), T0) == []
    rec.update(_counts(2), T0)
    assert rec.update(_counts(None), T0 + 40_000) == []
    again = rec.update(_counts(2), T0 + 41_000)  # a new disagreement, its own clock
    assert [d.since_ms for d in again] == [T0 + 41_000]
    assert due(again, T0 + 41_000, AFTER_S) == []


def test_back_in_agreement_ends_it() -> None:
    rec = Reconciler()
    rec.update(_counts(2), T0)
    assert len(due(rec.update(_counts(2), T0 + 40_000), T0 + 40_000, AFTER_S)) == 1
    assert rec.update(_counts(2, frozenset({"E1", "E2"})), T0 + 41_000) == []
    assert [d.since_ms for d in rec.update(_counts(1), T0 + 42_000)] == [T0 + 42_000]


def test_a_disagreement_dates_from_the_latest_change_of_either_side() -> None:
    rec = Reconciler()
    (d,) = rec.update([CellCounts("TUNA", SHELF, 2, EPCS, T0 + 16_000)], T0 + 26_000)
    assert d.since_ms == T0 + 16_000  # not when it was first evaluated
    assert due([d], T0 + 46_000, AFTER_S) == [d]
    (d,) = rec.update([CellCounts("TUNA", SHELF, 2, EPCS, T0 + 40_000)], T0 + 41_000)
    assert d.since_ms == T0 + 16_000  # an ongoing one keeps its start


def test_epcs_are_sorted_and_capped() -> None:
    many = frozenset(f"E{i:03d}" for i in range(25))
    (d,) = Reconciler().update(_counts(3, many), T0)
    assert (d.rfid_units, len(d.epcs), d.epcs[0]) == (25, 20, "E000")


# -- the count_mismatch rule ------------------------------------------------------------------
MISMATCH = (AlertType.COUNT_MISMATCH, f"location:{SHELF}|sku:TUNA")


def _rule(d: Disagreement, now_ms: int, open_: bool = False) -> dict[str, object] | None:
    facts = SiteFacts(now_ms, now_ms, mismatches=(d,))
    want = evaluate(facts, effective_rules({}), [MISMATCH] if open_ else []).get(MISMATCH)
    return None if want is None else {"severity": want.severity, **want.details}


def test_rule_opens_after_30_s_with_both_counts() -> None:
    d = Disagreement("TUNA", SHELF, 2, 3, ("E1", "E2", "E3"), T0)
    assert _rule(d, T0 + 29_999) is None
    assert _rule(d, T0 + 29_999, open_=True) is not None  # open: held while it lasts
    assert _rule(d, T0 + 30_000) == {
        "severity": "warning",
        "weight_units": 2,
        "rfid_units": 3,
        "epcs": ("E1", "E2", "E3"),
    }


# -- cell ownership ---------------------------------------------------------------------------
def _catalog() -> SiteCatalog:
    devices = {
        "reader-1": DeviceInfo(
            "reader-1", "gw-1", DeviceKind.RFID, antennas=(Antenna(1, SHELF, None),)
        ),
        "scale-1": DeviceInfo("scale-1", "gw-1", DeviceKind.WEIGHT, SHELF, "TUNA", 1200.0),
    }
    locations = {
        SHELF: LocationInfo(SHELF, LocationKind.SHELF, "TUNA", 2),
        OTHER: LocationInfo(OTHER, LocationKind.SHELF, None, None),
    }
    return SiteCatalog("s", "v1", devices, locations)


def _rfid(sku: str, frm: str | None, to: str | None, ts_ms: int) -> MovementRow:
    kind = MovementKind.ARRIVE if frm is None else MovementKind.DEPART if to is None else "move"
    return MovementRow(
        ts_ms, sku, f"EPC-{sku}", frm, to, 1, MovementKind(kind), MovementSource.RFID, 1.0,
        "reader-1", {},
    )  # fmt: skip


def test_the_scale_owns_its_cell_rfid_counts_the_rest() -> None:
    catalog = _catalog()
    assert catalog.scale_cells == {("TUNA", SHELF)}
    book = StockBook(catalog.min_qty)
    effects = Effects(
        movements=[
            _rfid("TUNA", None, SHELF, T0),  # arrival on the scale's cell: not counted
            _rfid("COLA", None, SHELF, T0),  # another sku's tag on that shelf: counted
            _rfid("TUNA", SHELF, OTHER, T0 + 1),  # leaves the scale's cell, lands elsewhere
        ],
        scale_counts=[ScaleCount("scale-1", SHELF, "TUNA", 3, T0 + 2)],
    )
    book_effects(book, catalog, effects)
    quantities = {k: c.qty for k, c in book.cells().items()}
    assert quantities == {("TUNA", SHELF): 3, ("COLA", SHELF): 1, ("TUNA", OTHER): 1}
    book_effects(book, catalog, Effects(movements=[_rfid("TUNA", SHELF, None, T0 + 3)]))
    after = book.cell("TUNA", SHELF)
    assert after is not None and after.qty == 3  # the departure is a movement, not a unit
