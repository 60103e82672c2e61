"""The one interface every device driver implements.

A driver runs its own thread(s), talks to its hardware, and hands each finished observation to
the sink as a ``shelfsense.devbus.Frame`` (event time from the device, in time order per
device). It reconnects on its own after errors; ``stop()`` ends its threads and returns once
no more frames will be delivered. The sink may block (the agent's frame queue is bounded): that
is back-pressure, and a driver must not drop frames because of it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from shelfsense.devbus import Frame

FrameSink = Callable[[Frame], None]


class DeviceDriver(Protocol):
    @property
    def name(self) -> str:
        """For logs: the driver kind and where it connects."""
        ...

    def start(self, sink: FrameSink) -> None: ...

    def stop(self) -> None: ...
