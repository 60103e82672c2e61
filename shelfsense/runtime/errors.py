"""Errors raised by the service launchers, and the log excerpt they carry.

RuntimeError
└── ServiceError              anything that went wrong starting or stopping a private service
    ├── ServiceNotInstalled   the binary (or the optional Python package) is not on this machine
    └── ServiceStartError     the service was found but did not come up, or one of its control
                              commands (pg_ctl stop, …) failed; the message ends with the tail
                              of its log, so the cause is in the report
"""

from __future__ import annotations

from pathlib import Path

LOG_TAIL_LINES = 30


class ServiceError(RuntimeError):
    """A private broker or database could not be started, stopped or used."""


class ServiceNotInstalled(ServiceError):
    """The program a launcher needs is missing; the message says how to install it."""


class ServiceStartError(ServiceError):
    """The service was found but did not start; `log_tail` holds the end of its log."""

    def __init__(self, message: str, log_tail: str = "") -> None:
        text = f"{message}\n--- last lines of the log ---\n{log_tail}" if log_tail else message
        super().__init__(text)
        self.log_tail = log_tail


def read_log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    """The last `lines` lines of a log file, or a note when it cannot be read."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        return f"(no log at {path}: {exc.strerror})"
    return "\n".join(text.splitlines()[-lines:])
