"""Typed configuration of the ingest service, built once in ``cli.run`` and passed down."""

from __future__ import annotations

from dataclasses import dataclass, field

from ingest.rfid import TrackerConfig
from shelfsense.settings import MqttUrl
from shelfsense.wire import DEFAULT_PREFIX


@dataclass(frozen=True, slots=True)
class IngestConfig:
    database_url: str
    mqtt: MqttUrl
    prefix: str = DEFAULT_PREFIX
    client_id: str = "shelfsense-ingest"
    share_group: str | None = None  # MQTT 5 shared subscription group ($share/GROUP/...)
    sites: tuple[str, ...] = ()  # only these sites' topics (empty: all)
    mqtt5: bool = True
    receive_maximum: int = 1000  # un-acked messages in flight from the broker (bounds memory)
    group_max_messages: int = 500  # messages applied in one database transaction
    group_wait_s: float = 0.05
    snapshot_every_s: float = 5.0
    catalog_poll_s: float = 2.0
    scale_silence_ms: int = 5_000  # a scale behind its partition's event time this long: unknown
    raw_retention_days: int = (
        90  # rfid_reads, weight_samples (native partitions; Timescale: policy)
    )
    sensor_retention_days: int = 400  # sensor_readings (cold-chain records are kept longer)
    partition_silence_s: float = 30.0  # no message at all from a gateway this long (wall time)
    tracker: TrackerConfig = field(default_factory=TrackerConfig)

    def __post_init__(self) -> None:
        if not 0 < self.receive_maximum < 65535:
            raise ValueError("receive_maximum must be in 1..65534")
        if self.group_max_messages < 1 or self.group_wait_s < 0:
            raise ValueError("group_max_messages >= 1 and group_wait_s >= 0")

    def topic_filters(self) -> list[str]:
        sites = self.sites or ("+",)
        filters = [f"{self.prefix}/v1/{site}/#" for site in sites]
        if self.share_group:
            filters = [f"$share/{self.share_group}/{f}" for f in filters]
        return filters
