"""``shelfsense api [--host H] [--port P]``: serve ``create_app(settings)`` with uvicorn.

SIGTERM (and Ctrl-C) stop accepting connections, end the live SSE streams at once, give other
open requests ``GRACE_S`` to finish, close the pool and exit 0. uvicorn re-raises the signal it
caught once it has shut down; the SIGTERM handler installed here turns that into a normal return.
"""

from __future__ import annotations

import argparse
import signal
from types import FrameType
from typing import TYPE_CHECKING

from shelfsense.settings import Settings

if TYPE_CHECKING:  # imported for real inside run(): `shelfsense --help` stays light
    import uvicorn
    from fastapi import FastAPI

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
GRACE_S = 5


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"bind address ({DEFAULT_HOST})")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port ({DEFAULT_PORT})")


def _ignore(signum: int, frame: FrameType | None) -> None:
    """uvicorn has already shut down when it re-raises SIGTERM; nothing is left to do."""


def _server(config: uvicorn.Config, app: FastAPI) -> uvicorn.Server:
    """uvicorn's server, which also ends the app's SSE streams as soon as a signal arrives."""
    import uvicorn

    from api.app import stop_streams

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            stop_streams(app)
            super().handle_exit(sig, frame)

    return Server(config)


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
    server = _server(config, app)
    previous = signal.signal(signal.SIGTERM, _ignore)
    try:
        server.run()
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0 if server.started else 1
