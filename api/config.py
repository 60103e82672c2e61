"""API service configuration: typed, unit-suffixed, validated once, passed down.

Built from ``Settings`` (database URL) plus defaults; tests pass their own ``ApiConfig`` to
``create_app`` to shorten timers.
"""

from __future__ import annotations

from dataclasses import dataclass


class ApiConfigError(ValueError):
    """A configuration value is out of range."""


@dataclass(frozen=True, slots=True)
class ApiConfig:
    pool_max_size: int = 10  # database connections held by one API process
    connect_timeout_s: float = 5.0
    heartbeat_s: float = 15.0  # SSE comment line when the stream has been quiet this long
    subscriber_queue_max: int = 256  # pending SSE events per client before it is dropped
    resume_window_rows: int = 5000  # newest movements scanned to resume an SSE stream
    movements_window_s: int = 24 * 3600  # default /movements window when `since` is absent
    movements_limit_default: int = 1000
    movements_limit_max: int = 10_000
    list_limit_max: int = 10_000  # alerts, tags, dead letters

    def __post_init__(self) -> None:
        positive = {
            "pool_max_size": self.pool_max_size,
            "connect_timeout_s": self.connect_timeout_s,
            "heartbeat_s": self.heartbeat_s,
            "subscriber_queue_max": self.subscriber_queue_max,
            "resume_window_rows": self.resume_window_rows,
            "movements_window_s": self.movements_window_s,
            "movements_limit_default": self.movements_limit_default,
            "list_limit_max": self.list_limit_max,
        }
        for name, value in positive.items():
            if value <= 0:
                raise ApiConfigError(f"{name} must be > 0, got {value}")
        if self.movements_limit_default > self.movements_limit_max:
            raise ApiConfigError("movements_limit_default must be <= movements_limit_max")
