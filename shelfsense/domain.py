"""Domain vocabulary shared by more than one service (ingest writes it, api and dashboards read)."""

from __future__ import annotations

from enum import StrEnum


class StockState(StrEnum):
    OK = "ok"
    LOW = "low"
    OUT = "out"
    UNKNOWN = "unknown"


class MovementKind(StrEnum):
    ARRIVE = "arrive"  # unseen -> L (RFID)
    DEPART = "depart"  # L -> unseen (RFID)
    MOVE = "move"  # L1 -> L2 (RFID)
    EXIT = "exit"  # left the store through a portal (RFID)
    ENTRY = "entry"  # came in through a portal (RFID)
    PICK = "pick"  # units taken off a weight shelf
    RESTOCK = "restock"  # units put on a weight shelf
    ADJUST = "adjust"  # a correction (reconciliation, manual count)


class MovementSource(StrEnum):
    RFID = "rfid"
    WEIGHT = "weight"
    MANUAL = "manual"


class LocationKind(StrEnum):
    SHELF = "shelf"
    STORAGE = "storage"
    PORTAL = "portal"
    COOLER = "cooler"
    OUTSIDE = "outside"


class DeviceKind(StrEnum):
    RFID = "rfid"
    WEIGHT = "weight"
    ENV = "env"


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    MAJOR = "major"
    CRITICAL = "critical"


class AlertStatus(StrEnum):
    ACTIVE = "active"
    ACKNOWLEDGED = "acknowledged"
    CLEARED = "cleared"


class Role(StrEnum):
    ADMIN = "admin"
    OPERATOR = "operator"
    VIEWER = "viewer"


def stock_state(qty: int, min_qty: int | None, *, observable: bool) -> StockState:
    """The state of one (sku, location) cell: unknown beats everything, then out, low, ok."""
    if not observable:
        return StockState.UNKNOWN
    if qty <= 0:
        return StockState.OUT
    if min_qty is not None and qty < min_qty:
        return StockState.LOW
    return StockState.OK
