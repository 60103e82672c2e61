"""Response and request models: the OpenAPI schema of /api/v1 is generated from these.

The contract v1 §6 models (``StockRow``, ``MovementRow``, ``AlertRow``, ``Health``) carry exactly
the contract's fields; they may only gain optional ones. Every timestamp is an aware datetime
serialized as ISO 8601 in UTC (``2025-11-21T10:00:00Z``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from shelfsense.domain import AlertStatus, Role, StockState


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_to_utc)]


def _text(value: object) -> object:
    return (
        bytes(value).decode("utf-8", "replace") if isinstance(value, bytes | memoryview) else value
    )


LenientText = Annotated[str, BeforeValidator(_text)]


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True)


class Health(_Row):
    status: Literal["ok"] = "ok"


class StockRow(_Row):
    sku: str
    location: str
    qty: int
    state: StockState
    updated_at: UtcDatetime = Field(description="event time of the cell's last change")
    expired_qty: int | None = Field(
        default=None,
        description="units of this cell whose lot has expired (no longer sellable); current "
        "stock only, null for ?at= answers",
    )


class MovementRow(_Row):
    id: int
    ts: UtcDatetime = Field(description="when it happened in the store (event time)")
    sku: str | None
    epc: str | None = Field(description="null for weight movements")
    from_location: str | None = Field(description="null: the item came from out of sight")
    to_location: str | None = Field(description="null: the item went out of sight")
    qty: int
    kind: str
    source: str
    confidence: float


class AlertRow(_Row):
    id: int
    type: str
    severity: str
    location: str | None
    sku: str | None
    status: AlertStatus
    opened_at: UtcDatetime
    details: dict[str, Any]


class SiteSummary(_Row):
    site: str
    name: str
    timezone: str


class ProductRow(_Row):
    sku: str
    name: str
    gtin: str | None
    unit_weight_g: float | None
    reorder_point: int | None


class LocationRow(_Row):
    id: str
    kind: str
    name: str | None
    sku: str | None = Field(description="planogram: the product that belongs here")
    min_qty: int | None
    capacity: int | None


class AntennaRow(_Row):
    port: int
    location: str
    side: str | None


class DeviceRow(_Row):
    id: str
    gateway: str
    kind: str
    location: str | None
    sku: str | None
    antennas: list[AntennaRow] = []


class SiteDetail(SiteSummary):
    products: list[ProductRow]
    locations: list[LocationRow]
    devices: list[DeviceRow]


class DeviceStatus(_Row):
    id: str
    gateway: str
    kind: str
    location: str | None
    last_seen_at: UtcDatetime | None = Field(description="arrival time of its last batch")
    last_t1: UtcDatetime | None = Field(description="event time its last batch ended")
    gateway_state: str = Field(description="online, offline or unknown")
    gateway_status_at: UtcDatetime | None
    gateway_backlog: int | None


class DeadLetterRow(_Row):
    id: int
    received_at: UtcDatetime
    topic: str
    gateway: str | None
    device: str | None
    reason: str
    size_bytes: int
    payload_preview: LenientText | None = Field(description="first bytes, UTF-8 with replacement")


class TagRow(_Row):
    epc: str
    sku: str | None = Field(description="null for tags that map to no product")
    location: str | None = Field(description="null: seen, then gone")
    since: UtcDatetime


class MisplacedTag(TagRow):
    expected_sku: str = Field(description="the location's planogram product")


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Role
    name: str = Field(min_length=1, max_length=200)
    expires_days: int | None = Field(default=None, gt=0, le=3650)


class TokenInfoOut(_Row):
    id: int
    name: str
    role: Role
    created_at: UtcDatetime
    expires_at: UtcDatetime | None
    revoked_at: UtcDatetime | None
    last_used_at: UtcDatetime | None


class TokenCreated(_Row):
    id: int
    name: str
    role: Role
    expires_at: UtcDatetime | None
    token: str = Field(description="shown once; only its hash is stored")
