"""The gateway file: what one edge agent runs, built once in ``main`` and passed down.

    site: demo-store
    gateway: gw-1
    mqtt_url: mqtt://127.0.0.1:18830      # optional: else SHELFSENSE_MQTT_URL; --mqtt-url wins
    spool_path: /var/lib/shelfsense/gw-1.spool   # relative paths are relative to this file
    batch_ms: {rfid: 500, weight: 1000, env: 60000}
    devices:
      - {id: reader-1, kind: rfid, driver: devbus, address: "127.0.0.1:7100"}

Unknown keys are errors (a typo must not silently fall back to a default). ``max_inflight`` bounds
the un-acknowledged QoS 1 publishes; it stays below 65,535 because MQTT packet ids are 16-bit
and paho refuses new publishes once every id is in use.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from edge.errors import EdgeConfigError
from shelfsense.ids import DeviceId, GatewayId, IdField, SiteId
from shelfsense.settings import MqttUrl, Settings, SettingsError
from shelfsense.wire import StreamKind, Topic

MAX_PACKET_IDS = 65_535
SPOOL_SUFFIX = ".spool.sqlite"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BatchMs(_Model):
    """Batch length per stream kind, in milliseconds of event time.

    RFID batches are short (500 ms) because a departure is only known at the end of the batch
    that completes its window of missed rounds: with 1 s batches that wait alone adds up to a
    second to every departure (docs/benchmarks.md, bench/rfid_accuracy.py --batch-ms). The cost
    is volume: a tag read in every batch is a read row per batch, twice as many rows as with 1 s
    batches (250 ms: four times, for p95 departures ~0.1 s sooner)."""

    rfid: int = Field(default=500, gt=0)
    weight: int = Field(default=1000, gt=0)
    env: int = Field(default=60_000, gt=0)

    def for_kind(self, kind: StreamKind) -> int:
        value: int = getattr(self, str(kind))
        return value


class DeviceConfig(_Model):
    id: IdField
    kind: Literal["rfid", "weight", "env"]
    driver: Literal["devbus"] = "devbus"
    address: str = Field(description="host:port of the device-bus server")

    @field_validator("address")
    @classmethod
    def _host_port(cls, value: str) -> str:
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"address {value!r} must be host:port")
        return value

    @property
    def stream_kind(self) -> StreamKind:
        return StreamKind(self.kind)

    @property
    def host_port(self) -> tuple[str, int]:
        host, _, port = self.address.rpartition(":")
        return host, int(port)


class EdgeConfig(_Model):
    site: IdField
    gateway: IdField
    mqtt_url: str | None = None
    mqtt_prefix: str = "shelf"
    mqtt_version: Literal["3.1.1", "5"] = "3.1.1"
    tls_ca_file: Path | None = None
    client_id: str = ""
    spool_path: Path
    batch_ms: BatchMs = BatchMs()
    max_inflight: int = Field(default=1000, ge=1, lt=MAX_PACKET_IDS)
    status_interval_s: float = Field(default=30.0, gt=0)
    shutdown_grace_s: float = Field(default=5.0, ge=0)
    frame_queue_size: int = Field(default=10_000, ge=1)
    devices: tuple[DeviceConfig, ...] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _default_client_id(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("client_id"):
            data = {
                **data,
                "client_id": f"shelfsense-edge-{data.get('site')}-{data.get('gateway')}",
            }
        return data

    @field_validator("mqtt_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                MqttUrl.parse(value)
            except SettingsError as exc:
                raise ValueError(str(exc)) from exc
        return value

    @field_validator("mqtt_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if not value or any(c in value for c in "+#\0") or "" in value.split("/"):
            raise ValueError(f"mqtt_prefix {value!r} must be non-empty topic levels without + or #")
        return value

    @field_validator("devices")
    @classmethod
    def _unique_ids(cls, value: tuple[DeviceConfig, ...]) -> tuple[DeviceConfig, ...]:
        ids = [d.id for d in value]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"device ids must be unique; repeated: {', '.join(repeated)}")
        return value

    @classmethod
    def from_file(
        cls, path: str | Path, settings: Settings, *, mqtt_url: str | None = None
    ) -> Self:
        """Load and validate; ``mqtt_url`` (the command-line flag) overrides the file.

        Missing values come from ``settings``: the broker URL, the topic prefix, and the spool
        path (``{data_dir}/edge-{site}-{gateway}.spool.sqlite``). Raises EdgeConfigError.
        """
        path = Path(path)
        raw = _read_yaml(path)
        raw = _apply_settings(raw, settings, path, mqtt_url)
        try:
            config = cls.model_validate(raw)
        except ValidationError as exc:
            raise EdgeConfigError(f"{path}: {_describe(exc)}") from exc
        if config.mqtt_url is None:
            raise EdgeConfigError(
                f"{path}: no broker: set mqtt_url, SHELFSENSE_MQTT_URL or pass --mqtt-url"
            )
        return config

    @property
    def broker(self) -> MqttUrl:
        if self.mqtt_url is None:
            raise EdgeConfigError("no broker: mqtt_url is not set")
        return MqttUrl.parse(self.mqtt_url)

    def topic(self, kind: StreamKind, device: str | None = None) -> Topic:
        site, gateway = SiteId(self.site), GatewayId(self.gateway)
        device_id = DeviceId(device) if device is not None else None
        return Topic(site, gateway, kind, device_id, self.mqtt_prefix)

    def stream_key(self, device: str) -> str:
        """The spool's seq stream of a device: seq is per (site, gateway, device)."""
        return f"{self.site}/{self.gateway}/{device}"

    def device(self, device_id: str) -> DeviceConfig | None:
        return next((d for d in self.devices if d.id == device_id), None)


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise EdgeConfigError(f"{path}: cannot read: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise EdgeConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise EdgeConfigError(f"{path}: the gateway file must be a YAML mapping")
    return raw


def _apply_settings(
    raw: dict[str, Any], settings: Settings, path: Path, mqtt_url: str | None
) -> dict[str, Any]:
    raw = dict(raw)
    if mqtt_url:
        raw["mqtt_url"] = mqtt_url
    elif not raw.get("mqtt_url"):
        raw["mqtt_url"] = settings.mqtt_url
    raw.setdefault("mqtt_prefix", settings.mqtt_prefix)
    spool = raw.get("spool_path")
    if spool is None and settings.data_dir is not None:
        name = f"edge-{raw.get('site')}-{raw.get('gateway')}{SPOOL_SUFFIX}"
        raw["spool_path"] = str(settings.data_dir / name)
    elif isinstance(spool, str) and not Path(spool).is_absolute():
        raw["spool_path"] = str(path.parent / spool)
    return raw


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors(include_url=False):
        where = ".".join(str(p) for p in err["loc"]) or "file"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)
