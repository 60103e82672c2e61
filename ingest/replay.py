"""Rebuild a partition's tracker state after a restart: snapshot, then the ledger since it.

Every accepted input has a ledger row (in processing order) and its raw data in the
telemetry tables, so the inputs after the snapshot can be fed again through the same pure code.
Their effects were written when they were first applied and are ignored here.
"""

from __future__ import annotations

import logging
from typing import Any

from ingest.partition import Partition
from ingest.pipeline import PartitionKey
from ingest.store import Store
from shelfsense.wire import GatewayState, RfidBatch, RfidCols, WeightBatch

log = logging.getLogger(__name__)


def replay_partition(store: Store, part: Partition, key: PartitionKey, after_id: int) -> int:
    """Feed ledger rows with id > ``after_id``; returns the last ledger id seen."""
    last = after_id
    count = 0
    for row in store.ledger_after(key[0], key[1], after_id):
        _replay_row(store, part, key, row)
        last = int(row["id"])
        count += 1
    if count:
        log.info(
            "partition %s/%s: replayed %d ledger rows after snapshot %d", *key, count, after_id
        )
    return last


def _replay_row(store: Store, part: Partition, key: PartitionKey, row: dict[str, Any]) -> None:
    kind, device_id = row["kind"], row["device_id"]
    device = part.device(device_id) if device_id else None
    if kind == "status":
        if row["event"].get("state") == GatewayState.OFFLINE:
            part.gateway_offline(part.watermark_ms or row["t0"])
        return
    if kind == "silence":
        part.gateway_offline(part.watermark_ms)
        return
    if device is None:
        return
    if kind == "rfid":
        cols = store.rfid_reads(key[0], device_id, row["t0"], row["t1"])
        batch = RfidBatch(
            v=1,
            seq=row["seq"],
            t0=row["t0"],
            t1=row["t1"],
            ants=list(row["ants"] or []),
            cols=RfidCols.model_validate(cols),
        )
        part.rfid(device, batch)
    elif kind == "weight":
        stored = store.weight_grams(key[0], device_id, row["t0"])
        if stored is not None:
            hz, grams = stored
            part.weight(
                device, WeightBatch(v=1, seq=row["seq"], t0=row["t0"], t1=row["t1"], hz=hz, g=grams)
            )
    elif kind == "env":
        part.env(device, row["t1"])
