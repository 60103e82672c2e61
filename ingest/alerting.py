"""Alerting inside the ingest engine: gathers each site's facts and applies the rules' verdicts.

The engine owns one ``Alerting``. It keeps what the rules need beyond the engine's own state:

- per site, where every RFID tag is (``epc -> (sku, location, since)``, loaded from
  ``rfid_tags`` on rebuild, then moved by each group's tag effects) and which tags sit on
  another product's planned location (misplaced);
- lots expiring within the longest lead time (reloaded every tick, and after a pick consumed
  weight-shelf lots), rule overrides (reloaded every tick: a change through the API takes effect
  within ``catalog_poll_s``), time-zone, temperature ranges, reorder points and lead days
  (reloaded with the catalogs).

``evaluate(site, ...)`` runs after every group (for the sites it touched) and on every tick (all
sites), in the caller's transaction: facts -> ``alert_rules.evaluate`` -> ``alert_lifecycle.plan``
-> ``AlertStore.apply``. Open alerts are read from the database each time, so what the API did
(acknowledge, clear) is always seen.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from ingest.alert_lifecycle import plan
from ingest.alert_rules import (
    RULES_BY_TYPE,
    CellFact,
    DeviceFact,
    GatewayFact,
    LotFact,
    SiteFacts,
    TagFact,
    TempFact,
    evaluate,
)
from ingest.alert_store import AlertStore, SiteExtras, TaggedLot, WeightLot
from ingest.catalog import SiteCatalog
from ingest.coldchain import TempRange
from ingest.effects import MovementRow, TagPosition
from ingest.lots import LotQty, on_shelf
from ingest.partition import Partition
from ingest.reconcile import CellCounts, Reconciler
from ingest.stockbook import StockBook
from shelfsense.alerting import AlertType, RuleSettings, effective_rules
from shelfsense.domain import DeviceKind, MovementKind, MovementSource
from shelfsense.lots import expires_at_ms

_SIGNIFICANT = {r.type: r.significant for r in RULES_BY_TYPE.values()}


class SiteTags:
    """Where each tag of one site is, and which of them are misplaced."""

    def __init__(self) -> None:
        self.positions: dict[str, tuple[str | None, str, int]] = {}
        self.misplaced: dict[str, TagFact] = {}
        self.changed_ms: dict[tuple[str, str], int] = {}  # (sku, location): a tag came or went

    def move(
        self, catalog: SiteCatalog, epc: str, sku: str | None, location: str | None, since_ms: int
    ) -> None:
        self.misplaced.pop(epc, None)
        old = self.positions.get(epc)
        for cell in ((old[0], old[1]) if old else None, (sku, location)):
            if cell is not None and cell[0] is not None and cell[1] is not None:
                key = (cell[0], cell[1])
                self.changed_ms[key] = max(self.changed_ms.get(key, 0), since_ms)
        if location is None:
            self.positions.pop(epc, None)
            return
        self.positions[epc] = (sku, location, since_ms)
        info = catalog.locations.get(location)
        planned = info.sku if info is not None else None
        if sku is not None and planned is not None and planned != sku:
            self.misplaced[epc] = TagFact(epc, sku, location, planned, since_ms)


class Alerting:
    def __init__(self, store: AlertStore) -> None:
        self.store = store
        self.extras: dict[str, SiteExtras] = {}
        self.rules: dict[str, dict[AlertType, RuleSettings]] = {}
        self.tags: dict[str, SiteTags] = {}
        self.weight_lots: dict[str, list[WeightLot]] = {}
        self.tagged_lots: dict[str, list[TaggedLot]] = {}
        self.reconcilers: dict[str, Reconciler] = {}  # weight shelves vs RFID, per site
        self.wall_ms = 0  # wall time of the last refresh (the lots' horizon)

    # -- loading --------------------------------------------------------------------------
    def load(self, catalogs: Mapping[str, SiteCatalog], wall_ms: int) -> None:
        """Everything, from the database (the engine's rebuild)."""
        self.extras = self.store.extras()
        self.tags = {}
        for site, catalog in catalogs.items():
            board = self.tags[site] = SiteTags()
            for epc, sku, location, since_ms in self.store.tag_positions(site):
                board.move(catalog, epc, sku, location, since_ms)
        self.refresh(catalogs, wall_ms)

    def refresh(self, sites: Iterable[str], wall_ms: int) -> None:
        """Rule overrides and the lots near expiry (every tick)."""
        overrides = self.store.rule_overrides()
        self.wall_ms = wall_ms
        for site in sites:
            self.rules[site] = effective_rules(overrides.get(site, {}))
            self._load_lots(site, wall_ms)

    def _load_lots(self, site: str, wall_ms: int) -> None:
        horizon = self._horizon(site, wall_ms)
        self.weight_lots[site] = self.store.weight_lots(site, horizon)
        self.tagged_lots[site] = self.store.tagged_lots(site, horizon)

    def _horizon(self, site: str, wall_ms: int) -> date:
        extras = self.extras.get(site, SiteExtras())
        rule = self.rules.get(site, {}).get(AlertType.EXPIRING_SOON)
        default = int(rule.number("default_lead_days")) if rule else 0
        lead = max([default, *extras.lead_days.values()])
        today = datetime.fromtimestamp(wall_ms / 1000, tz=ZoneInfo(extras.timezone)).date()
        return today + timedelta(days=lead + 1)

    def temp_ranges(self, site: str) -> Mapping[str, TempRange]:
        return self.extras.get(site, SiteExtras()).temp_ranges

    # -- what a group changed -------------------------------------------------------------
    def tags_moved(self, site: str, catalog: SiteCatalog, tags: Iterable[TagPosition]) -> None:
        board = self.tags.setdefault(site, SiteTags())
        for tag in tags:
            board.move(catalog, tag.epc, tag.sku, tag.location, tag.since_ms)

    def picked(self, site: str, movements: Sequence[MovementRow]) -> None:
        """Weight-shelf picks consume lots first-expiry-first-out (written now)."""
        consumed = 0
        for m in movements:
            if m.source == MovementSource.WEIGHT and m.kind == MovementKind.PICK and m.sku:
                assert m.from_location is not None
                consumed += self.store.consume(site, m.sku, m.from_location, m.qty)
        if consumed:
            self._load_lots(site, self.wall_ms)

    def replay_temperatures(self, part: Partition, after_id: int) -> None:
        """Feed the readings of the env batches replayed after a snapshot (ledger order)."""
        for device_id, ts_ms, temp_c in self.store.env_readings_after(
            part.site, part.gateway, after_id
        ):
            device = part.device(device_id)
            if device is not None and device.location is not None:
                part.feed_temperatures(device.location, [(ts_ms, temp_c)])

    # -- evaluation -----------------------------------------------------------------------
    def evaluate(
        self,
        catalog: SiteCatalog,
        book: StockBook,
        parts: Sequence[Partition],
        wall_ms: int,
    ) -> int:
        """Bring the site's alerts in line with its facts; the number of outbox events."""
        site = catalog.site_id
        facts = self.facts(catalog, book, parts, wall_ms)
        settings = self.rules.get(site) or effective_rules({})
        current = self.store.open_alerts(site)
        desired = evaluate(facts, settings, [a.key for a in current])

        def now_ms(kind: AlertType) -> int:
            return facts.wall_ms if RULES_BY_TYPE[kind].wall_clock else facts.event_ms

        changes = plan(current, desired, scope=AlertType, significant=_SIGNIFICANT, now_ms=now_ms)
        return self.store.apply(site, changes)

    def facts(
        self, catalog: SiteCatalog, book: StockBook, parts: Sequence[Partition], wall_ms: int
    ) -> SiteFacts:
        site = catalog.site_id
        extras = self.extras.get(site, SiteExtras())
        event_ms = max((p.watermark_ms for p in parts), default=0) or wall_ms
        board = self.tags.get(site, SiteTags())
        return SiteFacts(
            event_ms=event_ms,
            wall_ms=wall_ms,
            observed_since_ms=min((p.first_ms for p in parts if p.first_ms), default=event_ms),
            cells=tuple(_cells(catalog, book)),
            reorder_points=extras.reorder_points,
            lots=tuple(self._lots(catalog, book, extras, board)),
            temps=tuple(_temps(extras, parts)),
            devices=tuple(_devices(catalog, parts)),
            gateways=tuple(
                GatewayFact(p.gateway, p.offline_since_ms, p.watermark_ms) for p in parts
            ),
            misplaced=tuple(board.misplaced.values()),
            mismatches=tuple(
                self.reconcilers.setdefault(site, Reconciler()).update(
                    _scale_vs_rfid(catalog, book, board, parts), event_ms
                )
            ),
        )

    def _lots(
        self, catalog: SiteCatalog, book: StockBook, extras: SiteExtras, board: SiteTags
    ) -> Iterable[LotFact]:
        site = catalog.site_id

        def fact(lot: WeightLot | TaggedLot, location: str, qty: int) -> LotFact:
            expires = expires_at_ms(lot.expiry, extras.timezone)
            lead = extras.lead_days.get(lot.sku)
            return LotFact(lot.lot_id, lot.sku, lot.lot_code, location, qty, expires, lead)

        shelves: dict[tuple[str, str], list[WeightLot]] = {}
        for wl in self.weight_lots.get(site, []):
            shelves.setdefault((wl.sku, wl.location), []).append(wl)
        for (sku, location), lots in shelves.items():
            cell = book.cell(sku, location)
            by_id = {lot.lot_id: lot for lot in lots}
            qtys = [LotQty(lot.lot_id, lot.expiry, lot.remaining) for lot in lots]
            for lq in on_shelf(qtys, cell.qty if cell else 0):
                yield fact(by_id[lq.lot_id], location, lq.remaining)
        for tl in self.tagged_lots.get(site, []):
            counts: dict[str, int] = {}
            for epc in tl.epcs:
                pos = board.positions.get(epc)
                if pos is not None and catalog.holds_stock(pos[1]):
                    counts[pos[1]] = counts.get(pos[1], 0) + 1
            for location, qty in sorted(counts.items()):
                yield fact(tl, location, qty)


def _cells(catalog: SiteCatalog, book: StockBook) -> Iterable[CellFact]:
    for (sku, location), cell in book.cells().items():
        info = catalog.locations.get(location)
        if info is None or not catalog.holds_stock(location):
            continue
        yield CellFact(
            sku, location, cell.qty, cell.state, cell.updated_ms, info.min_qty, info.sku == sku
        )


def _scale_vs_rfid(
    catalog: SiteCatalog, book: StockBook, board: SiteTags, parts: Sequence[Partition]
) -> list[CellCounts]:
    """Both counts of every scale-counted cell that some reader watches, and when either last
    changed (the scale's count: its cell; RFID: a tag of the sku came or went there)."""
    owned = catalog.scale_cells
    if not owned:
        return []
    epcs: dict[tuple[str, str], frozenset[str] | None] = {}
    for part in parts:
        for cell, seen in part.rfid_epcs(owned).items():
            known = epcs.get(cell, frozenset())
            epcs[cell] = None if seen is None or known is None else known | seen
    units: dict[tuple[str, str], int | None] = {}
    by_gateway = {p.gateway: p for p in parts}
    for d in catalog.devices.values():
        if d.kind != DeviceKind.WEIGHT or d.sku is None or d.location is None:
            continue
        scale_part = by_gateway.get(d.gateway_id)
        units[(d.sku, d.location)] = scale_part.scale_units(d.device_id) if scale_part else None
    found = []
    for (sku, loc), seen in epcs.items():
        counted = book.cell(sku, loc)
        changed_ms = max(counted.updated_ms if counted else 0, board.changed_ms.get((sku, loc), 0))
        found.append(CellCounts(sku, loc, units.get((sku, loc)), seen, changed_ms))
    return found


def _temps(extras: SiteExtras, parts: Sequence[Partition]) -> Iterable[TempFact]:
    newest: dict[str, TempFact] = {}
    for part in parts:
        for location, s in part.coldchain.states().items():
            bounds = extras.temp_ranges.get(location)
            if bounds is None:
                continue
            peak = s.max_c if s.max_c is not None and s.max_c > bounds.high_c else s.min_c
            found = TempFact(
                location,
                bounds.low_c,
                bounds.high_c,
                bounds.excursion_after_s,
                s.last_ts_ms,
                s.last_temp_c,
                s.out_since_ms,
                peak,
            )
            if location not in newest or newest[location].last_ts_ms < s.last_ts_ms:
                newest[location] = found
    return newest.values()


def _devices(catalog: SiteCatalog, parts: Sequence[Partition]) -> Iterable[DeviceFact]:
    for part in parts:
        for device_id, t1_ms in sorted(part.last_t1_ms.items()):
            info = catalog.devices.get(device_id)
            if info is None:
                continue
            behind = part.watermark_ms - t1_ms
            yield DeviceFact(device_id, part.gateway, info.location, t1_ms, behind)
