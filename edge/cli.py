"""``shelfsense edge --config FILE``: run the gateway agent until SIGTERM or SIGINT."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from types import FrameType

from edge.agent import run_edge
from edge.config import EdgeConfig
from edge.errors import EdgeError
from shelfsense.settings import Settings

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, metavar="FILE", help="the gateway file (YAML)")


def run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        config = EdgeConfig.from_file(args.config, settings, mqtt_url=args.mqtt_url)
    except EdgeError as exc:
        print(f"shelfsense edge: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    _stop_on_signals(stop)
    try:
        run_edge(config, stop=stop)
    except EdgeError as exc:
        log.error("edge stopped: %s", exc)
        return 1
    return 0


def _stop_on_signals(stop: threading.Event) -> None:
    def handler(signum: int, frame: FrameType | None) -> None:
        log.info("received %s; stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
