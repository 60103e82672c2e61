"""``shelfsense api [--host H] [--port P]``: serve ``create_app(settings)`` with uvicorn.

SIGTERM (and Ctrl-C) stop accepting connections, give open requests ``GRACE_S`` to finish (SSE
streams are cut then), close the pool and exit 0. uvicorn re-raises the signal it caught once it
has shut down; the SIGTERM handler installed here turns that into a normal return.
"""

from __future__ import annotations

import argparse
import signal
from types import FrameType

from shelfsense.settings import Settings

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
GRACE_S = 5


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"bind address ({DEFAULT_HOST})")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port ({DEFAULT_PORT})")


def _ignore(signum: int, frame: FrameType | None) -> None:
    """uvicorn has already shut down when it re-raises SIGTERM; nothing is left to do."""


def run(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from api.app import create_app

    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=args.host,
        port=args.port,
        log_level=str(args.log_level).lower(),
        log_config=None,  # keep the logging set up by shelfsense.cli
        timeout_graceful_shutdown=GRACE_S,
    )
    server = uvicorn.Server(config)
    previous = signal.signal(signal.SIGTERM, _ignore)
    try:
        server.run()
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0 if server.started else 1
