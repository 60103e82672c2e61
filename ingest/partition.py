"""PURE state of one ingest partition, a (site, gateway): RFID tag tracker and weight trackers.

Every input is applied at its own event time and yields ``Effects``; nothing here does I/O.
The same inputs in the same order give the same state, which is what lets the service restore a
snapshot and replay the ledger after a crash (``replaying=True`` discards nothing from state,
the caller just ignores the effects it already wrote).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from ingest.catalog import DeviceInfo, SiteCatalog
from ingest.coldchain import ColdChain, TempRange
from ingest.effects import Effects, MovementRow, ScaleCount, TagPosition
from ingest.rfid import AntennaSpec, PortalSide, TagMovement, TagTracker, TrackerConfig
from ingest.stockbook import CellKey
from ingest.weight import ScaleConfig, ScaleState, ScaleTracker, WeightEvent, WeightEventKind
from shelfsense.domain import DeviceKind, MovementKind, MovementSource
from shelfsense.epc import decode_epc
from shelfsense.wire import RfidBatch, RfidColumns, WeightBatch

_EXAMPLE_LIMIT = 20
NOT_SGTIN = "?"  # the "sku" of an EPC that is no SGTIN: an unknown tag, counted, not tracked


def antenna_specs(catalog: SiteCatalog, gateway: str) -> list[AntennaSpec]:
    return [
        AntennaSpec(d.device_id, a.port, a.location, PortalSide(a.side) if a.side else None)
        for d in catalog.gateway_devices(gateway)
        if d.kind == DeviceKind.RFID
        for a in d.antennas
    ]


class Partition:
    def __init__(
        self,
        catalog: SiteCatalog,
        gateway: str,
        tracker_config: TrackerConfig,
        *,
        scale_silence_ms: int = 5_000,
        temp_ranges: Mapping[str, TempRange] | None = None,
    ) -> None:
        self.site = catalog.site_id
        self.gateway = gateway
        self._catalog = catalog
        self._tracker_config = tracker_config
        antennas = antenna_specs(catalog, gateway)
        self.tags = TagTracker(tracker_config, antennas)
        self._rfid_locations = frozenset(a.location for a in antennas)
        self.scales: dict[str, ScaleTracker] = {}
        self.first_ms = 0  # event time of the first batch (0: none yet)
        self.watermark_ms = 0  # the latest event time any device of the partition reported
        self.last_t1_ms: dict[str, int] = {}
        self._sku_by_epc: dict[str, str | None] = {}
        self._scale_silence_ms = scale_silence_ms
        self.coldchain = ColdChain(temp_ranges or {})  # per location, from env readings
        self.offline_since_ms: int | None = None  # gateway offline (status or silence) since

    def device(self, device_id: str) -> DeviceInfo | None:
        return self._catalog.devices.get(device_id)

    # -- inputs ---------------------------------------------------------------------------
    def rfid(self, device: DeviceInfo, batch: RfidBatch) -> Effects:
        effects = Effects()
        cols = canonical_reads(batch.columns())
        unknown = {epc for epc in set(cols.epc) if self._sku_of(epc, effects) == NOT_SGTIN}
        if unknown:
            keep = [i for i, epc in enumerate(cols.epc) if epc not in unknown]
            cols = RfidColumns(*([col[i] for i in keep] for col in _columns(cols)))
        moves = self.tags.observe(
            device.device_id, batch.t0, batch.t1, sorted(batch.ants),
            cols.epc, cols.ant, cols.rssi, cols.ts, cols.n,
        )  # fmt: skip
        self._advance(device.device_id, batch.t1)
        moves.extend(self.tags.expire(self.watermark_ms))
        self._tag_effects(moves, device.device_id, effects)
        effects.extend(self._silent_scales())
        return effects

    def weight(self, device: DeviceInfo, batch: WeightBatch) -> Effects:
        effects = Effects()
        tracker = self._scale(device)
        if tracker is None or device.location is None or device.sku is None:
            return effects
        # float32, as stored in weight_samples: a replay feeds exactly the same samples
        grams = np.asarray(batch.g, dtype=np.float32).astype(np.float64)
        events = tracker.feed(batch.t0, float(np.float32(batch.hz)), grams)
        self._advance(device.device_id, batch.t1)
        for event in events:
            if event.units > 0:  # a change of no whole unit (foreign object) moves no stock
                effects.movements.append(_weight_movement(device, event))
        # a count change dates from when the hand began to move (as a departure dates from
        # the last read): the shelf only tells once it is still again, but it happened then
        changed_ms = events[-1].started_ms if events else batch.t1
        effects.scale_counts.append(self._count(device, tracker, changed_ms))
        effects.extend(self._expire_rfid())
        effects.extend(self._silent_scales())
        return effects

    def env(self, device: DeviceInfo, t1_ms: int) -> Effects:
        self._advance(device.device_id, t1_ms)
        effects = self._expire_rfid()
        effects.extend(self._silent_scales())
        return effects

    def feed_temperatures(self, location: str, readings: Sequence[tuple[int, float]]) -> None:
        """A probe's (ts_ms, temp_c) readings, in batch order (the engine and replay feed them)."""
        self.coldchain.feed(location, readings)

    def device_silent(self, device_id: str, ts_ms: int) -> Effects:
        """The device stopped observing at ``ts_ms`` (silence, or its gateway went offline)."""
        effects = Effects()
        device = self._catalog.devices.get(device_id)
        if device is None:
            return effects
        if device.kind == DeviceKind.RFID:
            self.tags.device_offline(device_id, ts_ms)
        tracker = self.scales.get(device_id)
        if tracker is not None:
            tracker.mark_silent(ts_ms)
            effects.scale_counts.append(self._count(device, tracker, ts_ms))
        return effects

    def gateway_offline(self, ts_ms: int) -> Effects:
        effects = Effects()
        if self.offline_since_ms is None:
            self.offline_since_ms = ts_ms
        for device in self._catalog.gateway_devices(self.gateway):
            effects.extend(self.device_silent(device.device_id, ts_ms))
        return effects

    # -- queries --------------------------------------------------------------------------
    def unobservable_locations(self) -> set[str]:
        found = set(self.tags.unobservable_locations())
        for device_id, tracker in self.scales.items():
            device = self._catalog.devices.get(device_id)
            if device and device.location and tracker.state == ScaleState.UNKNOWN:
                found.add(device.location)
        return found

    def scale_units(self, device_id: str) -> int | None:
        """What a weight shelf of this partition counts now; None while it cannot tell."""
        tracker = self.scales.get(device_id)
        return None if tracker is None else tracker.units  # None while UNKNOWN

    def rfid_epcs(self, cells: Iterable[CellKey]) -> dict[CellKey, frozenset[str] | None]:
        """Per (sku, location) cell that this partition's readers watch: the EPCs of that sku
        confirmed there, or None while the location is not observable."""
        watched = {cell for cell in cells if cell[1] in self._rfid_locations}
        if not watched:
            return {}
        blind = self.tags.unobservable_locations()
        return {
            (sku, loc): None
            if loc in blind
            else frozenset(e for e in self.tags.present_at(loc) if self._cached_sku(e) == sku)
            for sku, loc in watched
        }

    # -- snapshots ------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        return {
            "tags": self.tags.snapshot(),
            "scales": {dev: t.snapshot() for dev, t in self.scales.items()},
            "watermark_ms": self.watermark_ms,
            "first_ms": self.first_ms,
            "last_t1_ms": dict(self.last_t1_ms),
            "coldchain": self.coldchain.snapshot(),
            "offline_since_ms": self.offline_since_ms,
        }

    def restore(self, snap: Mapping[str, Any]) -> None:
        specs = antenna_specs(self._catalog, self.gateway)
        self.tags = TagTracker.restore(self._tracker_config, specs, snap["tags"])
        self.scales = {}
        for dev, scale_snap in snap.get("scales", {}).items():
            config = self._scale_config(self._catalog.devices.get(dev))
            if config is not None:
                self.scales[dev] = ScaleTracker.restore(config, scale_snap)
        self.watermark_ms = int(snap.get("watermark_ms", 0))
        self.first_ms = int(snap.get("first_ms", 0))
        self.last_t1_ms = {str(k): int(v) for k, v in snap.get("last_t1_ms", {}).items()}
        self.coldchain.restore(snap.get("coldchain", {}))
        offline = snap.get("offline_since_ms")
        self.offline_since_ms = int(offline) if offline is not None else None

    # -- internals ------------------------------------------------------------------------
    def _advance(self, device_id: str, t1_ms: int) -> None:
        self.last_t1_ms[device_id] = max(t1_ms, self.last_t1_ms.get(device_id, 0))
        self.watermark_ms = max(self.watermark_ms, t1_ms)
        self.first_ms = self.first_ms or t1_ms  # when this gateway's devices began to observe
        self.offline_since_ms = None  # a batch came through: the gateway is back

    def _silent_scales(self) -> Effects:
        """Scales whose stream is behind the partition's event time: their count is unknown."""
        effects = Effects()
        for device_id, tracker in self.scales.items():
            behind_ms = self.watermark_ms - self.last_t1_ms.get(device_id, self.watermark_ms)
            if behind_ms > self._scale_silence_ms and tracker.state != ScaleState.UNKNOWN:
                effects.extend(self.device_silent(device_id, self.last_t1_ms[device_id]))
        return effects

    def _expire_rfid(self) -> Effects:
        effects = Effects()
        self._tag_effects(self.tags.expire(self.watermark_ms), "", effects)
        return effects

    def _sku_of(self, epc: str, effects: Effects) -> str | None:
        """The tag's sku; None for an SGTIN of no known product; NOT_SGTIN for any other EPC."""
        sku = self._cached_sku(epc)
        if sku == NOT_SGTIN and len(effects.unknown_epcs) < _EXAMPLE_LIMIT:
            effects.unknown_epcs.append(epc)
        elif sku is None:
            effects.unknown_products += 1
        return sku

    def _cached_sku(self, epc: str) -> str | None:
        if epc in self._sku_by_epc:
            return self._sku_by_epc[epc]
        info = decode_epc(epc)
        sku = NOT_SGTIN if info is None else self._catalog.sku_by_gtin.get(info.gtin)
        self._sku_by_epc[epc] = sku
        return sku

    def _tag_effects(self, moves: list[TagMovement], device_id: str, effects: Effects) -> None:
        for move in moves:
            sku = self._sku_by_epc.get(move.epc)
            effects.movements.append(_tag_movement(move, sku, device_id))
            location = move.to_location if move.kind in ("arrive", "move") else None
            effects.tags.append(TagPosition(move.epc, sku, location, move.ts_ms))

    def _scale_config(self, device: DeviceInfo | None) -> ScaleConfig | None:
        if device is None or device.sku is None:
            return None
        product = self._catalog.products.get(device.sku)
        if product is None or not product.unit_weight_g:
            return None
        return ScaleConfig(unit_weight_g=product.unit_weight_g, tare_g=device.tare_g or 0.0)

    def _scale(self, device: DeviceInfo) -> ScaleTracker | None:
        tracker = self.scales.get(device.device_id)
        if tracker is None:
            config = self._scale_config(device)
            if config is None:
                return None
            tracker = self.scales[device.device_id] = ScaleTracker(config)
        return tracker

    @staticmethod
    def _count(device: DeviceInfo, tracker: ScaleTracker, ts_ms: int) -> ScaleCount:
        assert device.location is not None and device.sku is not None
        units = tracker.units if tracker.state != ScaleState.UNKNOWN else None
        return ScaleCount(device.device_id, device.location, device.sku, units, ts_ms)


def _columns(cols: RfidColumns) -> tuple[list[Any], ...]:
    return (cols.epc, cols.ant, cols.rssi, cols.ts, cols.n)


def canonical_reads(cols: RfidColumns) -> RfidColumns:
    """The reads ordered by (ts, epc, ant) with RSSI at float32 precision: exactly what a replay
    reads back from ``rfid_reads``, so a replay rebuilds the very same tracker state."""
    if not len(cols):
        return cols
    rssi: list[float | None]
    if any(r is None for r in cols.rssi):
        rssi = [None if r is None else float(np.float32(r)) for r in cols.rssi]
    else:
        rssi = np.asarray(cols.rssi, dtype=np.float32).astype(np.float64).tolist()
    order = np.lexsort((np.asarray(cols.ant), np.asarray(cols.epc), np.asarray(cols.ts)))
    if bool(np.all(order[1:] > order[:-1])):
        return RfidColumns(cols.epc, cols.ant, rssi, cols.ts, cols.n)
    idx = order.tolist()
    return RfidColumns(
        *([col[i] for i in idx] for col in (cols.epc, cols.ant, rssi, cols.ts, cols.n))
    )


def _tag_movement(move: TagMovement, sku: str | None, device_id: str) -> MovementRow:
    return MovementRow(
        ts_ms=move.ts_ms,
        sku=sku,
        epc=move.epc,
        from_location=move.from_location,
        to_location=move.to_location,
        qty=1,
        kind=MovementKind(str(move.kind)),
        source=MovementSource.RFID,
        confidence=move.confidence,
        device_id=device_id,
        evidence=dict(move.evidence),
    )


def _weight_movement(device: DeviceInfo, event: WeightEvent) -> MovementRow:
    pick = event.kind == WeightEventKind.PICK
    return MovementRow(
        ts_ms=event.started_ms,
        sku=device.sku,
        epc=None,
        from_location=device.location if pick else None,
        to_location=None if pick else device.location,
        qty=event.units,
        kind=MovementKind.PICK if pick else MovementKind.RESTOCK,
        source=MovementSource.WEIGHT,
        confidence=event.confidence,
        device_id=device.device_id,
        evidence={
            "delta_g": round(event.delta_g, 2),
            "settle_ms": event.settle_ms,
            "settled_ms": event.ts_ms,
            "ambiguous": event.ambiguous,
            "units": event.units,
        },
    )
