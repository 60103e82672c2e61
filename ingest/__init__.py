"""shelfsense ingest: validate, de-duplicate and debounce raw reads into stock movements.

Public surface: ``IngestConfig`` and ``run_ingest`` (imported lazily: ``import ingest`` stays
light). The pure cores (``ingest.rfid``, ``ingest.weight``, ``ingest.partition``,
``ingest.stockbook``, ``ingest.pipeline``) are imported directly by tests and benchmarks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ingest.config import IngestConfig
    from ingest.service import run_ingest

__all__ = ["IngestConfig", "run_ingest"]


def __getattr__(name: str) -> Any:
    if name == "IngestConfig":
        from ingest.config import IngestConfig

        return IngestConfig
    if name == "run_ingest":
        from ingest.service import run_ingest

        return run_ingest
    raise AttributeError(name)
