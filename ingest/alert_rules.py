"""PURE alert rules: facts about one site in, the alerts that should be open out.

``evaluate(facts, settings, open_keys)`` runs every enabled rule of ``ALERT_RULES`` (a tuple of
frozen descriptions, each with its ``evaluate`` function) and returns the desired alerts keyed by
(type, subject). A rule sees which of its alerts are open now, which is what hysteresis needs:
an alert opens at one threshold and clears only past another (low stock opens below
``min_qty`` and clears at ``min_qty + hysteresis_units``; an excursion clears once the
temperature is back inside by ``hysteresis_c``). Where the facts cannot tell (stock ``unknown``)
an open alert is held, never cleared: absence of evidence is not recovery.

Clocks: ``facts.event_ms`` is the site's event time (its partitions' watermark) and drives every
rule that has event-time data; ``facts.wall_ms`` drives the expiry rules (a lot expires at a
calendar instant whether or not any device reports). ``AlertRule.wall_clock`` says which clock
stamps a rule's clears.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ingest.reconcile import Disagreement, due
from shelfsense.alerting import AlertType, RuleSettings, subject
from shelfsense.domain import Severity, StockState
from shelfsense.lots import LotStatus, lot_status

AlertKey = tuple[AlertType, str]  # (type, subject)


@dataclass(frozen=True, slots=True)
class CellFact:
    sku: str
    location: str
    qty: int
    state: StockState
    since_ms: int  # event time of the cell's last change
    min_qty: int | None
    planned: bool  # the location's planogram names this sku


@dataclass(frozen=True, slots=True)
class LotFact:
    lot_id: int
    sku: str
    lot_code: str
    location: str
    qty: int  # units of the lot on this location now
    expires_ms: int
    lead_days: int | None  # the product's expiry_lead_days


@dataclass(frozen=True, slots=True)
class TempFact:
    location: str
    low_c: float
    high_c: float
    after_s: int
    last_ts_ms: int
    last_temp_c: float
    out_since_ms: int | None
    peak_c: float | None  # the extreme of the current out-of-range run


@dataclass(frozen=True, slots=True)
class DeviceFact:
    device: str
    gateway: str
    location: str | None
    last_t1_ms: int
    behind_ms: int  # its gateway's event time minus the end of its last batch


@dataclass(frozen=True, slots=True)
class GatewayFact:
    gateway: str
    offline_since_ms: int | None
    watermark_ms: int


@dataclass(frozen=True, slots=True)
class TagFact:
    epc: str
    sku: str
    location: str
    expected_sku: str  # the location's planogram product (not ``sku``)
    since_ms: int


@dataclass(frozen=True, slots=True)
class SiteFacts:
    event_ms: int
    wall_ms: int
    observed_since_ms: int = 0  # when the site's devices began to observe (event time)
    cells: tuple[CellFact, ...] = ()
    reorder_points: Mapping[str, int] = field(default_factory=dict)
    lots: tuple[LotFact, ...] = ()
    temps: tuple[TempFact, ...] = ()
    devices: tuple[DeviceFact, ...] = ()
    gateways: tuple[GatewayFact, ...] = ()
    misplaced: tuple[TagFact, ...] = ()
    mismatches: tuple[Disagreement, ...] = ()  # weight shelves whose count RFID contradicts


@dataclass(frozen=True, slots=True)
class Desired:
    type: AlertType
    subject: str
    severity: Severity
    since_ms: int  # when the condition began (event time; wall time for expiry)
    details: Mapping[str, Any]
    location: str | None = None
    sku: str | None = None
    device: str | None = None
    lot_id: int | None = None

    @property
    def key(self) -> AlertKey:
        return (self.type, self.subject)


Evaluate = Callable[[SiteFacts, RuleSettings, frozenset[str]], Iterable[Desired]]


@dataclass(frozen=True, slots=True)
class AlertRule:
    type: AlertType
    evaluate: Evaluate  # (facts, settings, subjects open now) -> desired alerts
    significant: tuple[str, ...] = ()  # detail keys whose change is an "updated" event
    wall_clock: bool = False


# -- stock ----------------------------------------------------------------------------------
def _cell_subject(cell: CellFact) -> str:
    return subject(location=cell.location, sku=cell.sku)


def _stock_alert(kind: AlertType, cell: CellFact, rule: RuleSettings, **details: Any) -> Desired:
    extra = {"stale": True} if cell.state == StockState.UNKNOWN else {}
    return Desired(
        kind,
        _cell_subject(cell),
        rule.severity,
        cell.since_ms,
        {"qty": cell.qty, **details, **extra},
        location=cell.location,
        sku=cell.sku,
    )


def _warm(facts: SiteFacts, rule: RuleSettings) -> bool:
    """The site has been observed for ``warmup_s``: at start-up every count climbs from zero
    while the readers confirm what is on the shelves, which is no shortage."""
    return facts.event_ms - facts.observed_since_ms >= rule.number("warmup_s") * 1000


def _settled(facts: SiteFacts, cell: CellFact, rule: RuleSettings) -> bool:
    """The cell has not changed for ``settle_s`` of event time (no transient while a hand
    moves items or readers confirm what they see)."""
    return facts.event_ms - cell.since_ms >= rule.number("settle_s") * 1000


def _low_stock(facts: SiteFacts, rule: RuleSettings, open_: frozenset[str]) -> Iterable[Desired]:
    margin = int(rule.number("hysteresis_units"))
    for cell in facts.cells:
        if not cell.planned or cell.min_qty is None:
            continue
        if _cell_subject(cell) in open_:
            holds = cell.state == StockState.UNKNOWN or 0 < cell.qty < cell.min_qty + margin
        else:
            holds = cell.state in (StockState.LOW, StockState.OK) and 0 < cell.qty < cell.min_qty
            holds = holds and _settled(facts, cell, rule) and _warm(facts, rule)
        if holds:
            yield _stock_alert(AlertType.LOW_STOCK, cell, rule, min_qty=cell.min_qty)


def _out_of_stock(facts: SiteFacts, rule: RuleSettings, open_: frozenset[str]) -> Iterable[Desired]:
    margin = int(rule.number("hysteresis_units"))
    for cell in facts.cells:
        if not cell.planned:
            continue
        if _cell_subject(cell) in open_:
            holds = cell.state == StockState.UNKNOWN or cell.qty < max(margin, 1)
        else:
            holds = cell.state == StockState.OUT and _settled(facts, cell, rule)
            holds = holds and _warm(facts, rule)
        if holds:
            yield _stock_alert(AlertType.OUT_OF_STOCK, cell, rule)


def _reorder_point(
    facts: SiteFacts, rule: RuleSettings, open_: frozenset[str]
) -> Iterable[Desired]:
    margin = int(rule.number("hysteresis_units"))
    totals: dict[str, int] = {}
    unknown: set[str] = set()
    since: dict[str, int] = {}
    for cell in facts.cells:
        totals[cell.sku] = totals.get(cell.sku, 0) + cell.qty
        since[cell.sku] = max(since.get(cell.sku, 0), cell.since_ms)
        if cell.state == StockState.UNKNOWN:
            unknown.add(cell.sku)
    for sku, point in sorted(facts.reorder_points.items()):
        total, key = totals.get(sku, 0), subject(sku=sku)
        if key in open_:
            holds = sku in unknown or total < point + margin
        else:
            settled = facts.event_ms - since.get(sku, 0) >= rule.number("settle_s") * 1000
            holds = sku not in unknown and total < point and settled and _warm(facts, rule)
        if holds:
            details = {"qty": total, "reorder_point": point}
            yield Desired(
                AlertType.REORDER_POINT,
                key,
                rule.severity,
                since.get(sku, facts.event_ms),
                details,
                sku=sku,
            )


def _unknown_stock(
    facts: SiteFacts, rule: RuleSettings, open_: frozenset[str]
) -> Iterable[Desired]:
    after_ms = int(rule.number("after_s") * 1000)
    first: dict[str, int] = {}
    for cell in facts.cells:
        if cell.state == StockState.UNKNOWN:
            first[cell.location] = min(first.get(cell.location, cell.since_ms), cell.since_ms)
    for location, since_ms in sorted(first.items()):
        key = subject(location=location)
        if key in open_ or facts.event_ms - since_ms >= after_ms:
            yield Desired(
                AlertType.STOCK_UNKNOWN, key, rule.severity, since_ms, {}, location=location
            )


def _misplaced(facts: SiteFacts, rule: RuleSettings, open_: frozenset[str]) -> Iterable[Desired]:
    after_ms = int(rule.number("after_s") * 1000)
    groups: dict[tuple[str, str], list[TagFact]] = {}
    for tag in facts.misplaced:
        groups.setdefault((tag.location, tag.sku), []).append(tag)
    for (location, sku), tags in sorted(groups.items()):
        key = subject(location=location, sku=sku)
        settled = [t for t in tags if facts.event_ms - t.since_ms >= after_ms]
        shown = tags if key in open_ else settled
        if shown:
            details = {
                "count": len(shown),
                "expected_sku": shown[0].expected_sku,
                "epcs": sorted(t.epc for t in shown)[:20],
            }
            since_ms = min(t.since_ms for t in shown)
            yield Desired(AlertType.MISPLACED, key, rule.severity, since_ms, details, location, sku)


def _count_mismatch(
    facts: SiteFacts, rule: RuleSettings, open_: frozenset[str]
) -> Iterable[Desired]:
    """A weight shelf's count and the RFID tags on it differ for after_s; clears once they
    agree or either side cannot tell (``ingest.reconcile``)."""
    after_s = rule.number("after_s")
    for d in facts.mismatches:
        key = subject(location=d.location, sku=d.sku)
        if key not in open_ and not due([d], facts.event_ms, after_s):
            continue
        details = {"weight_units": d.weight_units, "rfid_units": d.rfid_units, "epcs": d.epcs}
        yield Desired(
            AlertType.COUNT_MISMATCH, key, rule.severity, d.since_ms, details, d.location, d.sku
        )


# -- expiry ---------------------------------------------------------------------------------
def _expiry(kind: AlertType, wanted: LotStatus) -> Evaluate:
    def evaluate(facts: SiteFacts, rule: RuleSettings, open_: frozenset[str]) -> Iterable[Desired]:
        default_lead = (
            int(rule.number("default_lead_days")) if kind == AlertType.EXPIRING_SOON else 0
        )
        for lot in facts.lots:
            lead = lot.lead_days if lot.lead_days is not None else default_lead
            if lot.qty <= 0 or lot_status(facts.wall_ms, lot.expires_ms, lead) != wanted:
                continue
            since_ms = lot.expires_ms if wanted == LotStatus.EXPIRED else facts.wall_ms
            details = {"qty": lot.qty, "lot": lot.lot_code, "expires_at_ms": lot.expires_ms}
            key = subject(lot=lot.lot_id, location=lot.location)
            yield Desired(
                kind,
                key,
                rule.severity,
                min(since_ms, facts.wall_ms),
                details,
                location=lot.location,
                sku=lot.sku,
                lot_id=lot.lot_id,
            )

    return evaluate


# -- cold chain -----------------------------------------------------------------------------
def _excursion(facts: SiteFacts, rule: RuleSettings, open_: frozenset[str]) -> Iterable[Desired]:
    margin_c = rule.number("hysteresis_c")
    critical_ms = int(rule.number("critical_after_s") * 1000)
    for t in facts.temps:
        key = subject(location=t.location)
        after_ms = int((rule.number("after_s") or t.after_s) * 1000)
        out_ms = t.last_ts_ms - t.out_since_ms if t.out_since_ms is not None else 0
        if key in open_:
            holds = not (t.low_c + margin_c <= t.last_temp_c <= t.high_c - margin_c)
        else:
            holds = t.out_since_ms is not None and out_ms >= after_ms
        if not holds:
            continue
        severity = Severity.CRITICAL if critical_ms and out_ms >= critical_ms else rule.severity
        details = {
            "temp_c": round(t.last_temp_c, 2),
            "range_c": [t.low_c, t.high_c],
            "out_since_ms": t.out_since_ms,
            "peak_c": None if t.peak_c is None else round(t.peak_c, 2),
        }
        since_ms = t.out_since_ms if t.out_since_ms is not None else t.last_ts_ms
        yield Desired(
            AlertType.TEMP_EXCURSION, key, severity, since_ms, details, location=t.location
        )


# -- devices --------------------------------------------------------------------------------
def _gateway_offline(
    facts: SiteFacts, rule: RuleSettings, open_: frozenset[str]
) -> Iterable[Desired]:
    after_ms = int(rule.number("after_s") * 1000)
    for gw in facts.gateways:
        key = subject(gateway=gw.gateway)
        if gw.offline_since_ms is None:
            continue
        if key not in open_ and facts.event_ms - gw.offline_since_ms < after_ms:
            continue
        details = {"watermark_ms": gw.watermark_ms}
        yield Desired(AlertType.GATEWAY_OFFLINE, key, rule.severity, gw.offline_since_ms, details)


def _device_offline(
    facts: SiteFacts, rule: RuleSettings, open_: frozenset[str]
) -> Iterable[Desired]:
    after_ms = int(rule.number("after_s") * 1000)
    offline = {g.gateway for g in facts.gateways if g.offline_since_ms is not None}
    for dev in facts.devices:
        if dev.gateway in offline or dev.behind_ms < after_ms:
            continue  # a whole gateway offline is one gateway alert, not one per device
        details = {"gateway": dev.gateway, "last_t1_ms": dev.last_t1_ms}
        yield Desired(
            AlertType.DEVICE_OFFLINE,
            subject(device=dev.device),
            rule.severity,
            dev.last_t1_ms,
            details,
            location=dev.location,
            device=dev.device,
        )


ALERT_RULES: tuple[AlertRule, ...] = (
    AlertRule(AlertType.LOW_STOCK, _low_stock, significant=("qty",)),
    AlertRule(AlertType.OUT_OF_STOCK, _out_of_stock),
    AlertRule(AlertType.REORDER_POINT, _reorder_point, significant=("qty",)),
    AlertRule(AlertType.STOCK_UNKNOWN, _unknown_stock),
    AlertRule(AlertType.MISPLACED, _misplaced, significant=("count",)),
    AlertRule(
        AlertType.COUNT_MISMATCH, _count_mismatch, significant=("weight_units", "rfid_units")
    ),
    AlertRule(
        AlertType.EXPIRING_SOON,
        _expiry(AlertType.EXPIRING_SOON, LotStatus.EXPIRING),
        significant=("qty",),
        wall_clock=True,
    ),
    AlertRule(
        AlertType.EXPIRED,
        _expiry(AlertType.EXPIRED, LotStatus.EXPIRED),
        significant=("qty",),
        wall_clock=True,
    ),
    AlertRule(AlertType.TEMP_EXCURSION, _excursion),
    AlertRule(AlertType.GATEWAY_OFFLINE, _gateway_offline),
    AlertRule(AlertType.DEVICE_OFFLINE, _device_offline),
)
RULES_BY_TYPE: Mapping[AlertType, AlertRule] = {r.type: r for r in ALERT_RULES}


def evaluate(
    facts: SiteFacts,
    settings: Mapping[AlertType, RuleSettings],
    open_keys: Iterable[AlertKey],
) -> dict[AlertKey, Desired]:
    """The alerts that should be open now; a disabled rule wants none (its alerts clear)."""
    by_type: dict[AlertType, set[str]] = {}
    for kind, subj in open_keys:
        by_type.setdefault(kind, set()).add(subj)
    desired: dict[AlertKey, Desired] = {}
    for rule in ALERT_RULES:
        current = settings.get(rule.type)
        if current is None or not current.enabled:
            continue
        for want in rule.evaluate(facts, current, frozenset(by_type.get(rule.type, ()))):
            desired[want.key] = want
    return desired
