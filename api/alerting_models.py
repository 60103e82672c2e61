"""Request and response models of the alerting, lots and cold-chain routes.

``AlertDetail`` extends the contract's ``AlertRow`` with optional fields only.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from api.models import AlertRow, UtcDatetime
from shelfsense.lots import LotStatus


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True)


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AlertEventRow(_Row):
    id: int
    event: str
    severity: str
    ts: UtcDatetime = Field(description="event time of the change")
    created_at: UtcDatetime


class AlertDetail(AlertRow):
    subject: str
    device: str | None = None
    lot_id: int | None = None
    updated_at: UtcDatetime
    acked_at: UtcDatetime | None = None
    acked_by: str | None = None
    cleared_at: UtcDatetime | None = None
    cleared_by: str | None = Field(default=None, description="null: the condition went away")
    updates: int = 0
    events: list[AlertEventRow] = []


class AlertRuleOut(_Row):
    key: str
    description: str
    enabled: bool
    params: dict[str, Any] = Field(description="effective: defaults with the site's overrides")
    defaults: dict[str, Any]
    overrides: dict[str, Any]


class AlertRuleIn(_Request):
    enabled: bool = True
    params: dict[str, Any] = Field(default_factory=dict, description="overrides of defaults")


class LotIn(_Request):
    """Either ``epcs`` (RFID items) or ``qty`` + ``location`` (weight shelf); the product by
    ``sku``, ``gtin`` or a scanned ``gs1`` element string / Digital Link (which may also give
    ``lot`` (AI 10), ``expiry`` (AI 17) and a single item's serial (AI 21))."""

    sku: str | None = None
    gtin: str | None = None
    gs1: str | None = Field(default=None, examples=["(01)08690000000012(17)251231(10)L42"])
    lot: str | None = None
    expiry: date | None = None
    epcs: list[str] = []
    qty: int | None = None
    location: str | None = None


class LotOut(_Row):
    lot_id: int
    sku: str
    gtin: str | None
    lot: str
    expiry: date
    received_at: UtcDatetime
    received_qty: int
    remaining_qty: int | None = Field(description="weight-shelf lots: units not yet picked")
    location: str | None = Field(description="weight-shelf lots: where they were put")
    items: int = Field(description="RFID lots: EPCs in the lot")


class ExpiryRow(_Row):
    lot_id: int
    sku: str
    lot: str
    expiry: date
    expires_at: UtcDatetime = Field(description="local midnight at the end of the expiry date")
    location: str | None
    qty: int = Field(description="units of the lot on this location now")
    days_left: float
    status: LotStatus


class MktOut(_Row):
    location: str
    since: UtcDatetime
    until: UtcDatetime
    readings: int
    mkt_c: float | None = Field(description="mean kinetic temperature, ΔH = 83.144 kJ/mol")
    mean_c: float | None
    min_c: float | None
    max_c: float | None
