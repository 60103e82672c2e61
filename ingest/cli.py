"""``shelfsense ingest``: flags, then ``run_ingest`` until SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
import signal
import threading

from shelfsense.settings import Settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--client-id",
        default="shelfsense-ingest",
        help="MQTT client id; the persistent session is kept under it",
    )
    parser.add_argument("--share-group", help="MQTT 5 shared subscription group")
    parser.add_argument("--site", action="append", default=[], help="only this site (repeat)")
    parser.add_argument("--mqtt3", action="store_true", help="speak MQTT 3.1.1 instead of 5")
    parser.add_argument(
        "--group-max", type=int, default=500, help="messages applied per database transaction"
    )
    parser.add_argument(
        "--snapshot-every-s",
        type=float,
        default=5.0,
        help="how often tracker state is checkpointed (a restart replays the rest)",
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    from ingest.config import IngestConfig
    from ingest.service import run_ingest

    config = IngestConfig(
        database_url=settings.require_database(),
        mqtt=settings.require_mqtt(),
        prefix=settings.mqtt_prefix,
        client_id=args.client_id,
        share_group=args.share_group,
        sites=tuple(args.site),
        mqtt5=not args.mqtt3,
        group_max_messages=args.group_max,
        snapshot_every_s=args.snapshot_every_s,
    )
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    run_ingest(config, stop=stop)
    return 0
