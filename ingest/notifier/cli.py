"""``shelfsense notify``: flags, then ``run_notify`` until SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
import signal
import threading

from ingest.notifier.channels import NotifyConfigError
from ingest.notifier.config import repeat_pair
from shelfsense.domain import Severity
from shelfsense.settings import Settings


def _repeat_flag(text: str) -> tuple[Severity, float]:
    try:
        return repeat_pair(text)
    except NotifyConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


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
    parser.add_argument(
        "--repeat-every-s",
        type=_repeat_flag,
        action="append",
        default=[],
        metavar="SEVERITY=SECONDS",
        help="remind who was told of an unacknowledged alert this often (repeatable; 0: never;"
        " default critical=300 major=900)",
    )
    parser.add_argument(
        "--repeat-max", type=int, default=3, help="reminders per recipient and alert (0: none)"
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    from ingest.notifier.config import NotifyConfig, repeat_every
    from ingest.notifier.policy import PolicyConfig
    from ingest.notifier.service import run_notify

    config = NotifyConfig(
        database_url=settings.require_database(),
        public_url=args.public_url or settings.public_url,
        policy=PolicyConfig(
            digest_every_s=args.digest_every_s,
            escalation_delays_s=tuple(args.escalate_after_s or (300.0,)),
            repeat_every_s=repeat_every(args.repeat_every_s),
            repeat_max=args.repeat_max,
        ),
        send_workers=args.workers,
        max_attempts=args.max_attempts,
    )
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    run_notify(config, stop=stop)
    return 0
