"""The ground-truth log: one JSON object per line, in the order the simulation produced them.

Record shapes are described in ``firmware_sim.store`` (movements, unit changes, setpoints, notes)
and ``firmware_sim.simulation`` (checkpoints, excursions). Lines are in event-time order; a
checkpoint's ``stock`` includes every record before it. ``read_truth`` loads a log back.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import IO

from firmware_sim.store import Record


class TruthLog:
    """Appends records to a JSONL file (or discards them when ``path`` is None)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.count = 0
        self._file: IO[str] | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = path.open("w", encoding="utf-8")

    def write(self, records: Iterable[Record]) -> None:
        for rec in records:
            self.count += 1
            if self._file is not None:
                self._file.write(json.dumps(rec, separators=(",", ":")) + "\n")

    def flush(self) -> None:
        if self._file is not None:
            self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> TruthLog:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def read_truth(path: Path) -> list[Record]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]
