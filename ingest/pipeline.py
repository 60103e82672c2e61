"""PURE routing of decoded messages: which partition and device they belong to, or why not.

``route`` checks what the wire models cannot: the site and device exist, the device belongs to
the gateway in the topic and is of the topic's kind. ``ledger_entry`` describes the ledger row
that makes an accepted message count exactly once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ingest.catalog import DeviceInfo, SiteCatalog
from ingest.effects import Effects
from ingest.partition import Partition
from shelfsense.wire import (
    GatewayState,
    GatewayStatus,
    Message,
    Rejected,
    RfidBatch,
    SensorBatch,
    StreamKind,
    WeightBatch,
)

PartitionKey = tuple[str, str]  # (site, gateway)


@dataclass(frozen=True, slots=True)
class Accepted:
    message: Message
    device: DeviceInfo | None  # None for gateway status

    @property
    def key(self) -> PartitionKey:
        return (str(self.message.topic.site), str(self.message.topic.gateway))


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    site_id: str
    gateway_id: str
    device_id: str
    kind: str
    seq: int | None
    t0_ms: int
    t1_ms: int
    ants: list[int] | None
    items: int
    event: Mapping[str, Any] | None


def route(decoded: Message | Rejected, catalogs: Mapping[str, SiteCatalog]) -> Accepted | Rejected:
    if isinstance(decoded, Rejected):
        return decoded
    topic = decoded.topic
    catalog = catalogs.get(str(topic.site))
    if catalog is None:
        return Rejected(f"unknown site {topic.site!r}: apply its site file first", topic)
    if topic.kind == StreamKind.STATUS:
        return Accepted(decoded, None)
    device = catalog.devices.get(str(topic.device))
    if device is None:
        return Rejected(f"unknown device {topic.device!r} in site {topic.site!r}", topic)
    if device.gateway_id != topic.gateway:
        return Rejected(
            f"device {device.device_id!r} belongs to gateway {device.gateway_id!r}, "
            f"not {topic.gateway!r}",
            topic,
        )
    if str(device.kind) != str(topic.kind):
        return Rejected(
            f"device {device.device_id!r} is a {device.kind} device; topic says {topic.kind}", topic
        )
    return Accepted(decoded, device)


def ledger_entry(accepted: Accepted, arrival_ms: int) -> LedgerEntry:
    payload = accepted.message.payload
    site, gateway = accepted.key
    device = accepted.device.device_id if accepted.device else ""
    if isinstance(payload, GatewayStatus):
        ts = payload.ts if payload.ts is not None else arrival_ms
        event = payload.model_dump(mode="json", exclude_none=True)
        return LedgerEntry(site, gateway, "", "status", None, ts, ts + 1, None, 0, event)
    ants = payload.ants if isinstance(payload, RfidBatch) else None
    return LedgerEntry(
        site,
        gateway,
        device,
        str(accepted.message.topic.kind),
        payload.seq,
        payload.t0,
        payload.t1,
        ants,
        _items(payload),
        None,
    )


def _items(payload: RfidBatch | WeightBatch | SensorBatch) -> int:
    if isinstance(payload, RfidBatch):
        return len(payload.cols.epc) if payload.cols is not None else len(payload.reads or [])
    if isinstance(payload, WeightBatch):
        return len(payload.g)
    return len(payload.readings)


def apply(partition: Partition, accepted: Accepted, entry: LedgerEntry) -> Effects:
    """Feed one accepted, non-duplicate message into its partition's trackers."""
    payload = accepted.message.payload
    device = accepted.device
    if isinstance(payload, GatewayStatus):
        if payload.state == GatewayState.OFFLINE:
            return partition.gateway_offline(max(partition.watermark_ms, 0) or entry.t0_ms)
        return Effects()
    assert device is not None
    if isinstance(payload, RfidBatch):
        return partition.rfid(device, payload)
    if isinstance(payload, WeightBatch):
        return partition.weight(device, payload)
    return partition.env(device, payload.t1)
