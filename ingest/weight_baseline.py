"""AutoCheckout-style weight event baseline, for comparison in bench/weight_accuracy.py. PURE.

The method of the AutoCheckout (AiFi/CMU) and AIM3S weight pipelines, reduced to its core:

- the stream is cut into blocks of ``block_ms`` (0.2 s); a block whose variance exceeds
  ``var_threshold_g2`` (a fixed threshold, 25 g^2 = 5 g std) is *active*;
- an event starts at the first active block; its level before is the mean of the last
  ``stable_ms`` (1 s) of quiet blocks;
- it ends after ``stable_ms`` of consecutive quiet blocks, whose mean is the level after;
- a change of at least ``min_change_g`` (10 g) becomes ``round(|delta| / unit weight)`` units;
  no ambiguity test, no zero tracking, confidence 1.

It has the same ``feed`` interface and returns the same ``WeightEvent`` as ``ScaleTracker``. A gap
in the batches drops the partial block and starts over from the next quiet second.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ingest.weight import WeightEvent, WeightEventKind

__all__ = ["BaselineConfig", "BaselineTracker"]


@dataclass(frozen=True, slots=True)
class BaselineConfig:
    unit_weight_g: float
    tare_g: float
    block_ms: int = 200
    var_threshold_g2: float = 25.0
    stable_ms: int = 1000
    min_change_g: float = 10.0

    def __post_init__(self) -> None:
        if self.unit_weight_g <= 0 or self.block_ms <= 0 or self.stable_ms < self.block_ms:
            raise ValueError("BaselineConfig needs unit_weight_g > 0 and 0 < block_ms <= stable_ms")


class BaselineTracker:
    def __init__(self, config: BaselineConfig) -> None:
        self._cfg = config
        self._pending: np.ndarray = np.empty(0)
        self._pending_t0_ms = 0.0
        self._end_ms: float | None = None
        self._level_g: float | None = None
        self._quiet: deque[float] = deque(maxlen=max(1, config.stable_ms // config.block_ms))
        self._active_since_ms: float | None = None
        self._before_g: float | None = None
        self._run: list[float] = []
        self._run_t0_ms = 0.0

    def feed(self, t0_ms: int, hz: float, grams: np.ndarray | Sequence[float]) -> list[WeightEvent]:
        raw = np.asarray(grams, dtype=np.float64)
        dt_ms = 1000.0 / hz
        if self._end_ms is None or abs(t0_ms - self._end_ms) > dt_ms / 2:
            self._pending, self._pending_t0_ms = np.empty(0), float(t0_ms)
            self._quiet.clear()
            self._active_since_ms, self._run = None, []
        buf = np.concatenate((self._pending, raw))
        size = max(2, round(self._cfg.block_ms * hz / 1000.0))
        nblocks = buf.size // size
        blocks = buf[: nblocks * size].reshape(nblocks, size)
        means, variances = blocks.mean(axis=1), blocks.var(axis=1)
        events = []
        for k in range(nblocks):
            t_ms = self._pending_t0_ms + k * size * dt_ms
            event = self._block(float(means[k]), float(variances[k]), t_ms, t_ms + size * dt_ms)
            if event is not None:
                events.append(event)
        self._pending = buf[nblocks * size :]
        self._pending_t0_ms += nblocks * size * dt_ms
        self._end_ms = t0_ms + raw.size * dt_ms
        return events

    def _block(
        self, mean_g: float, var_g2: float, t_ms: float, end_ms: float
    ) -> WeightEvent | None:
        quiet = var_g2 <= self._cfg.var_threshold_g2
        if self._active_since_ms is None:
            if quiet:
                self._quiet.append(mean_g)
                if len(self._quiet) == self._quiet.maxlen:
                    self._level_g = sum(self._quiet) / len(self._quiet)
                return None
            self._active_since_ms, self._before_g, self._run = t_ms, self._level_g, []
            return None
        if not quiet:
            self._run = []
            return None
        if not self._run:
            self._run_t0_ms = t_ms
        self._run.append(mean_g)
        if len(self._run) < (self._quiet.maxlen or 1):
            return None
        return self._close(end_ms)

    def _close(self, end_ms: float) -> WeightEvent | None:
        after_g = sum(self._run) / len(self._run)
        before_g, started_ms = self._before_g, self._active_since_ms
        self._quiet.clear()
        self._quiet.extend(self._run)
        self._level_g, self._active_since_ms, self._run = after_g, None, []
        if before_g is None or started_ms is None:
            return None
        delta_g = after_g - before_g
        units = math.floor(abs(delta_g) / self._cfg.unit_weight_g + 0.5)
        if abs(delta_g) < self._cfg.min_change_g or units == 0:
            return None
        ts_ms = round(self._run_t0_ms)
        return WeightEvent(
            kind=WeightEventKind.PICK if delta_g < 0 else WeightEventKind.RESTOCK,
            units=units,
            ts_ms=ts_ms,
            started_ms=round(started_ms),
            delta_g=round(delta_g, 3),
            confidence=1.0,
            ambiguous=False,
            settle_ms=max(ts_ms - round(started_ms), 0),
            detected_ms=round(end_ms),
        )
