"""Device drivers: each turns one kind of hardware connection into ``Frame`` values.

Only ``devbus`` (simulated devices over TCP) exists today; LLRP readers and serial scales will
implement the same ``DeviceDriver`` protocol.
"""

from edge.drivers.base import DeviceDriver, FrameSink
from edge.drivers.devbus import DevBusDriver

__all__ = ["DevBusDriver", "DeviceDriver", "FrameSink"]
