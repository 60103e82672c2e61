"""Alert rules: which alerts should be open for a site's facts, with hysteresis."""

from __future__ import annotations

from ingest.alert_rules import (
    CellFact,
    DeviceFact,
    GatewayFact,
    LotFact,
    SiteFacts,
    TagFact,
    TempFact,
    evaluate,
)
from shelfsense.alerting import AlertType, effective_rules
from shelfsense.domain import Severity, StockState

SHELF = "floor/aisle-1/shelf-1"
COOLER = "floor/cooler-1"
DAY_MS = 86_400_000
T0 = 1_763_719_200_000
RULES = effective_rules({})


def _cell(qty: int, state: StockState | None = None, min_qty: int | None = 4) -> CellFact:
    if state is None:
        state = StockState.OUT if qty == 0 else StockState.LOW if qty < 4 else StockState.OK
    return CellFact("PASTA", SHELF, qty, state, T0, min_qty, planned=True)


def _keys(facts: SiteFacts, open_: list[tuple[AlertType, str]] | None = None) -> set[str]:
    return {f"{k[0]}@{k[1]}" for k in evaluate(facts, RULES, open_ or [])}


def _stock(cell: CellFact, settled_s: int = 15) -> SiteFacts:
    return SiteFacts(T0 + settled_s * 1000, T0, cells=(cell,))


LOW = f"low_stock@location:{SHELF}|sku:PASTA"
OUT = f"out_of_stock@location:{SHELF}|sku:PASTA"
LOW_KEY = (AlertType.LOW_STOCK, f"location:{SHELF}|sku:PASTA")
OUT_KEY = (AlertType.OUT_OF_STOCK, f"location:{SHELF}|sku:PASTA")


def test_low_stock_opens_below_min_qty_and_clears_at_min_plus_hysteresis() -> None:
    assert _keys(_stock(_cell(4))) == set()
    assert _keys(_stock(_cell(3))) == {LOW}
    assert _keys(_stock(_cell(4)), [LOW_KEY]) == {LOW}  # inside the hysteresis band: held
    assert _keys(_stock(_cell(5)), [LOW_KEY]) == set()


def test_a_cell_must_settle_before_an_alert_opens() -> None:
    assert _keys(_stock(_cell(3), settled_s=14)) == set()
    assert _keys(_stock(_cell(0), settled_s=14)) == set()
    assert _keys(_stock(_cell(3), settled_s=1), [LOW_KEY]) == {LOW}, "held without settling"


def test_an_empty_shelf_is_out_of_stock_not_low() -> None:
    assert _keys(_stock(_cell(0))) == {OUT}
    assert _keys(_stock(_cell(0)), [LOW_KEY]) == {OUT}
    assert _keys(_stock(_cell(1)), [OUT_KEY]) == {LOW}


def test_unknown_stock_holds_open_alerts_and_opens_none() -> None:
    unknown = _cell(2, StockState.UNKNOWN)
    assert _keys(_stock(unknown)) == set()
    held = evaluate(_stock(unknown), RULES, [LOW_KEY])
    assert held[LOW_KEY].details == {"qty": 2, "min_qty": 4, "stale": True}


def test_only_the_planned_product_of_a_location_counts() -> None:
    stray = CellFact("TUNA", SHELF, 0, StockState.OUT, T0, 4, planned=False)
    assert _keys(_stock(stray)) == set()


def test_reorder_point_over_the_site_total() -> None:
    cells = (
        CellFact("PASTA", SHELF, 3, StockState.LOW, T0, 4, True),
        CellFact("PASTA", "backroom", 5, StockState.OK, T0, None, False),
    )
    key = (AlertType.REORDER_POINT, "sku:PASTA")
    early = SiteFacts(T0 + 14_000, T0, cells=cells, reorder_points={"PASTA": 9})
    assert key not in evaluate(early, RULES, [])  # readers may still be confirming (settle_s)
    facts = SiteFacts(T0 + 15_000, T0, cells=cells, reorder_points={"PASTA": 9})
    found = evaluate(facts, RULES, [])
    assert found[key].details == {"qty": 8, "reorder_point": 9}


def test_stock_unknown_after_a_while_per_location() -> None:
    cell = CellFact("PASTA", SHELF, 3, StockState.UNKNOWN, T0, 4, True)
    assert _keys(SiteFacts(T0 + 299_000, T0, cells=(cell,))) == set()
    assert _keys(SiteFacts(T0 + 300_000, T0, cells=(cell,))) == {f"stock_unknown@location:{SHELF}"}


def _lot(expires_ms: int, qty: int = 6, lead: int | None = None) -> LotFact:
    return LotFact(7, "SALAD", "L1", COOLER, qty, expires_ms, lead)


def test_expiry_by_wall_clock_with_lead_days() -> None:
    end = T0 + 10 * DAY_MS
    assert _keys(SiteFacts(0, end - 3 * DAY_MS, lots=(_lot(end),))) == set()
    assert _keys(SiteFacts(0, end - 2 * DAY_MS, lots=(_lot(end),))) == {
        f"expiring_soon@lot:7|location:{COOLER}"
    }
    assert _keys(SiteFacts(0, end - 3 * DAY_MS, lots=(_lot(end, lead=5),))) == {
        f"expiring_soon@lot:7|location:{COOLER}"
    }
    expired = evaluate(SiteFacts(0, end, lots=(_lot(end),)), RULES, [])
    assert list(expired) == [(AlertType.EXPIRED, f"lot:7|location:{COOLER}")]
    assert _keys(SiteFacts(0, end, lots=(_lot(end, qty=0),))) == set()


def _temp(last_c: float, out_since: int | None, last_ms: int) -> TempFact:
    peak = last_c if out_since is not None else None
    return TempFact(COOLER, 0.0, 5.0, 600, last_ms, last_c, out_since, peak)


EXC = f"temp_excursion@location:{COOLER}"
EXC_KEY = (AlertType.TEMP_EXCURSION, f"location:{COOLER}")


def test_excursion_needs_its_duration_and_clears_inside_by_the_margin() -> None:
    assert _keys(SiteFacts(T0, T0, temps=(_temp(9.0, T0, T0 + 599_000),))) == set()
    assert _keys(SiteFacts(T0, T0, temps=(_temp(9.0, T0, T0 + 600_000),))) == {EXC}
    assert _keys(SiteFacts(T0, T0, temps=(_temp(4.8, None, T0),)), [EXC_KEY]) == {EXC}
    assert _keys(SiteFacts(T0, T0, temps=(_temp(4.4, None, T0),)), [EXC_KEY]) == set()


def test_a_long_excursion_is_critical() -> None:
    found = evaluate(SiteFacts(T0, T0, temps=(_temp(9.0, T0, T0 + 3_600_000),)), RULES, [])
    assert found[EXC_KEY].severity == Severity.CRITICAL


def test_offline_devices_and_gateways() -> None:
    devices = (
        DeviceFact("reader-1", "gw-1", None, T0, 300_000),
        DeviceFact("probe-1", "gw-1", COOLER, T0, 60_000),
        DeviceFact("scale-1", "gw-2", SHELF, T0, 900_000),
    )
    gateways = (GatewayFact("gw-1", None, T0), GatewayFact("gw-2", T0, T0))
    assert _keys(SiteFacts(T0, T0, devices=devices, gateways=gateways)) == {
        "device_offline@device:reader-1",
        "gateway_offline@gateway:gw-2",  # its scale is covered by the gateway alert
    }


def test_misplaced_tags_after_they_settle() -> None:
    tags = (
        TagFact("E1", "TUNA", SHELF, "PASTA", T0),
        TagFact("E2", "TUNA", SHELF, "PASTA", T0 + 100_000),
    )
    found = evaluate(SiteFacts(T0 + 130_000, T0, misplaced=tags), RULES, [])
    (alert,) = found.values()
    assert alert.details == {"count": 1, "expected_sku": "PASTA", "epcs": ["E1"]}


def test_a_disabled_rule_wants_nothing() -> None:
    rules = effective_rules({"low_stock": (False, {})})
    assert evaluate(_stock(_cell(3)), rules, []) == {}


def test_overrides_change_severity_and_thresholds() -> None:
    rules = effective_rules({"low_stock": (True, {"severity": "major", "hysteresis_units": 3})})
    held = evaluate(_stock(_cell(6)), rules, [LOW_KEY])
    assert held[LOW_KEY].severity == Severity.MAJOR


def test_no_shortage_alerts_while_the_site_warms_up() -> None:
    """At start-up every count climbs from zero while readers confirm the shelves."""
    cell = CellFact("PASTA", SHELF, 1, StockState.LOW, T0, 4, True)
    young = SiteFacts(T0 + 59_000, T0, observed_since_ms=T0, cells=(cell,))
    warm = SiteFacts(T0 + 60_000, T0, observed_since_ms=T0, cells=(cell,))
    assert not any(t == AlertType.LOW_STOCK for t, _ in evaluate(young, RULES, []))
    assert any(t == AlertType.LOW_STOCK for t, _ in evaluate(warm, RULES, []))
