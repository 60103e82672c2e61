"""shelfsense edge: the gateway agent (``shelfsense edge --config FILE``).

Device drivers hand frames to a pure ``Batcher``; finished batches go to a disk-first
store-and-forward ``Spool`` (seq assigned as they are stored), and a ``Publisher`` drains the
spool to the broker with QoS 1, deleting a batch only once the broker acknowledged it.
``run_edge(config, stop=...)`` wires it all; ``EdgeConfig.from_file`` builds the config.
"""

from edge.agent import run_edge
from edge.batching import Batcher, Draft
from edge.config import BatchMs, DeviceConfig, EdgeConfig
from edge.errors import EdgeConfigError, EdgeError, SpoolError, SpoolLocked
from edge.spool import MemorySpool, Spool, SpooledBatch, SqliteSpool

__all__ = [
    "BatchMs",
    "Batcher",
    "DeviceConfig",
    "Draft",
    "EdgeConfig",
    "EdgeConfigError",
    "EdgeError",
    "MemorySpool",
    "Spool",
    "SpoolError",
    "SpoolLocked",
    "SpooledBatch",
    "SqliteSpool",
    "run_edge",
]
