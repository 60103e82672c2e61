"""The MQTT wire contract v1 (topics and payloads), pure.

``decode(topic, payload)`` is the one entry point for everything that arrives from a broker:
it returns a ``Message`` (parsed topic + validated payload) or a ``Rejected`` with a reason an
operator can read. Nothing here raises on bad input.

Payload models are strict (a string where a number belongs is rejected) and ignore unknown
fields, as the contract asks. RFID reads come as ``reads`` (objects) or ``cols`` (columns);
``RfidBatch.columns()`` gives both as the same ``RfidColumns``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from shelfsense.ids import DeviceId, GatewayId, SiteId

WIRE_VERSION = 1
MAX_PAYLOAD_BYTES = 256 * 1024
DEFAULT_PREFIX = "shelf"

EpcHex = Annotated[str, Field(pattern=r"^[0-9A-Fa-f]{24,}$")]
EpochMs = Annotated[int, Field(ge=0)]


class StreamKind(StrEnum):
    RFID = "rfid"
    WEIGHT = "weight"
    ENV = "env"
    STATUS = "status"


@dataclass(frozen=True, slots=True)
class Topic:
    """``{prefix}/v1/{site}/{gateway}/{kind}[/{device}]``; ``device`` is None for status."""

    site: SiteId
    gateway: GatewayId
    kind: StreamKind
    device: DeviceId | None = None
    prefix: str = DEFAULT_PREFIX

    def __str__(self) -> str:
        base = f"{self.prefix}/v{WIRE_VERSION}/{self.site}/{self.gateway}/{self.kind}"
        return base if self.device is None else f"{base}/{self.device}"

    @classmethod
    def parse(cls, topic: str, prefix: str = DEFAULT_PREFIX) -> Topic:
        """Raises ValueError naming what is wrong."""
        head = f"{prefix}/v{WIRE_VERSION}/"
        if not topic.startswith(head):
            raise ValueError(f"topic {topic!r} does not start with {head!r}")
        parts = topic[len(head) :].split("/")
        if len(parts) == 3 and parts[2] == StreamKind.STATUS:
            return cls(SiteId(parts[0]), GatewayId(parts[1]), StreamKind.STATUS, None, prefix)
        if len(parts) != 4 or parts[2] not in ("rfid", "weight", "env"):
            raise ValueError(f"topic {topic!r} is not {head}SITE/GATEWAY/(rfid|weight|env)/DEVICE")
        site, gateway, kind, device = parts
        return cls(SiteId(site), GatewayId(gateway), StreamKind(kind), DeviceId(device), prefix)

    @classmethod
    def subscription(cls, prefix: str = DEFAULT_PREFIX, site: str = "+") -> str:
        return f"{prefix}/v{WIRE_VERSION}/{site}/#"


class _Payload(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


class _Batch(_Payload):
    v: Literal[1]
    seq: int = Field(ge=0)
    t0: EpochMs
    t1: EpochMs

    @model_validator(mode="after")
    def _interval(self) -> _Batch:
        if self.t1 <= self.t0:
            raise ValueError(f"t1 ({self.t1}) must be after t0 ({self.t0})")
        return self

    def _check_ts(self, ts: list[int], what: str) -> None:
        if ts and (min(ts) < self.t0 or max(ts) >= self.t1):
            raise ValueError(f"every {what} ts must lie in [t0, t1) = [{self.t0}, {self.t1})")


class RfidRead(_Payload):
    epc: EpcHex
    ant: int = Field(ge=0, le=65535)
    rssi: float | None = None
    ts: EpochMs
    n: int = Field(default=1, ge=1)


class RfidCols(_Payload):
    epc: list[EpcHex]
    ant: list[Annotated[int, Field(ge=0, le=65535)]]
    ts: list[EpochMs]
    rssi: list[float | None] | None = None
    n: list[Annotated[int, Field(ge=1)]] | None = None

    @model_validator(mode="after")
    def _same_lengths(self) -> RfidCols:
        size = len(self.epc)
        for name in ("ant", "ts", "rssi", "n"):
            col = getattr(self, name)
            if col is not None and len(col) != size:
                raise ValueError(f"cols.{name} has {len(col)} values, cols.epc has {size}")
        return self


@dataclass(frozen=True, slots=True)
class RfidColumns:
    """The reads of one batch as columns; ``epc`` is upper-case hex."""

    epc: list[str]
    ant: list[int]
    rssi: list[float | None]
    ts: list[int]
    n: list[int]

    def __len__(self) -> int:
        return len(self.epc)


class RfidBatch(_Batch):
    ants: list[Annotated[int, Field(ge=0, le=65535)]]
    reads: list[RfidRead] | None = None
    cols: RfidCols | None = None

    @model_validator(mode="after")
    def _reads_or_cols(self) -> RfidBatch:
        if (self.reads is None) == (self.cols is None):
            raise ValueError("an RFID batch carries exactly one of 'reads' and 'cols'")
        cols = self.columns()
        self._check_ts(cols.ts, "read")
        stray = set(cols.ant) - set(self.ants)
        if stray:
            raise ValueError(f"reads on antennas {sorted(stray)} that are not in ants {self.ants}")
        return self

    def columns(self) -> RfidColumns:
        if self.cols is not None:
            c = self.cols
            size = len(c.epc)
            return RfidColumns(
                epc=[e.upper() for e in c.epc],
                ant=list(c.ant),
                rssi=list(c.rssi) if c.rssi is not None else [None] * size,
                ts=list(c.ts),
                n=list(c.n) if c.n is not None else [1] * size,
            )
        reads = self.reads or []
        return RfidColumns(
            epc=[r.epc.upper() for r in reads],
            ant=[r.ant for r in reads],
            rssi=[r.rssi for r in reads],
            ts=[r.ts for r in reads],
            n=[r.n for r in reads],
        )


class WeightBatch(_Batch):
    hz: float = Field(gt=0, le=10_000)
    g: list[float]

    @model_validator(mode="after")
    def _sample_count(self) -> WeightBatch:
        expected = round((self.t1 - self.t0) * self.hz / 1000)
        if len(self.g) != expected:
            raise ValueError(f"g has {len(self.g)} samples; (t1-t0)*hz/1000 needs {expected}")
        return self


class SensorReading(_Payload):
    ts: EpochMs
    temp_c: float | None = None
    rh: float | None = Field(default=None, ge=0, le=100)
    batt_v: float | None = None


class SensorBatch(_Batch):
    readings: list[SensorReading]

    @model_validator(mode="after")
    def _reading_times(self) -> SensorBatch:
        self._check_ts([r.ts for r in self.readings], "reading")
        return self


class GatewayState(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"


class GatewayStatus(_Payload):
    v: Literal[1]
    state: GatewayState
    ts: EpochMs | None = None
    sw: str | None = None
    backlog: int | None = Field(default=None, ge=0)


Batch = RfidBatch | WeightBatch | SensorBatch
Payload = Batch | GatewayStatus
_MODELS: dict[StreamKind, type[Payload]] = {
    StreamKind.RFID: RfidBatch,
    StreamKind.WEIGHT: WeightBatch,
    StreamKind.ENV: SensorBatch,
    StreamKind.STATUS: GatewayStatus,
}


@dataclass(frozen=True, slots=True)
class Message:
    topic: Topic
    payload: Payload


@dataclass(frozen=True, slots=True)
class Rejected:
    """Why a message was not accepted; ``topic`` is set when the topic itself parsed."""

    reason: str
    topic: Topic | None = None


def model_for(kind: StreamKind) -> type[Payload]:
    return _MODELS[kind]


def decode(topic: str, payload: bytes, *, prefix: str = DEFAULT_PREFIX) -> Message | Rejected:
    """Parse and validate one MQTT message. Never raises on bad input."""
    try:
        parsed = Topic.parse(topic, prefix)
    except ValueError as exc:
        return Rejected(f"bad topic: {exc}")
    if len(payload) > MAX_PAYLOAD_BYTES:
        return Rejected(
            f"payload is {len(payload)} bytes; the limit is {MAX_PAYLOAD_BYTES}", parsed
        )
    try:
        model = _MODELS[parsed.kind].model_validate_json(payload)
    except ValidationError as exc:
        return Rejected(_describe(exc), parsed)
    return Message(parsed, model)


def _describe(exc: ValidationError) -> str:
    errors = exc.errors(include_url=False)
    if errors and errors[0]["type"] == "json_invalid":
        return f"malformed JSON: {errors[0]['msg']}"
    parts = []
    for err in errors[:5]:
        where = ".".join(str(p) for p in err["loc"]) or "payload"
        parts.append(f"{where}: {err['msg']}")
    more = f" (+{len(errors) - 5} more)" if len(errors) > 5 else ""
    return "invalid payload: " + "; ".join(parts) + more


def encode(payload: Payload) -> bytes:
    """Compact JSON for the wire; optional fields left unset are omitted."""
    return payload.model_dump_json(exclude_none=True).encode()


def json_schemas() -> dict[str, dict[str, object]]:
    """JSON Schema of every payload, keyed by stream kind (docs/schemas/*.json)."""
    return {
        str(kind): model.model_json_schema(mode="validation") for kind, model in _MODELS.items()
    }


def offline_will() -> bytes:
    """The gateway's MQTT last will, exactly as the contract gives it."""
    return json.dumps({"v": 1, "state": "offline"}, separators=(",", ":")).encode()
