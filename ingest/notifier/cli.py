"""``shelfsense notify``: flags, then ``run_notify`` until SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
import signal
import threading

from shelfsense.settings import Settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--public-url", help="overrides SHELFSENSE_PUBLIC_URL (ack links)")
    parser.add_argument("--workers", type=int, default=8, help="concurrent sends")
    parser.add_argument(
        "--digest-every-s", type=float, default=900.0, help="digest boundary interval"
    )
    parser.add_argument(
        "--escalate-after-s",
        type=float,
        action="append",
        help="seconds a level has to acknowledge before the next is told (repeat per level)",
    )
    parser.add_argument("--max-attempts", type=int, default=8, help="then a delivery is dead")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from ingest.notifier.config import NotifyConfig
    from ingest.notifier.policy import PolicyConfig
    from ingest.notifier.service import run_notify

    config = NotifyConfig(
        database_url=settings.require_database(),
        public_url=args.public_url or settings.public_url,
        policy=PolicyConfig(
            digest_every_s=args.digest_every_s,
            escalation_delays_s=tuple(args.escalate_after_s or (300.0,)),
        ),
        send_workers=args.workers,
        max_attempts=args.max_attempts,
    )
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    run_notify(config, stop=stop)
    return 0
