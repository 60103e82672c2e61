"""JSON snapshot of a ``ScaleTracker``, enough to resume after a process restart. PURE.

The snapshot holds the stable level and the tracked zero, the state, the noise estimate, the end
of the last batch and the raw tail the stability windows need, so feeding the next batch after
``load`` gives the same events as if the process had never stopped. Version 2; version 1 (no zero,
no pending differences) loads with the zero at the tare. A malformed snapshot raises ValueError.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ingest.weight import ScaleTracker

__all__ = ["dump", "load"]

_VERSION = 2


def dump(tracker: ScaleTracker) -> dict[str, object]:
    t = tracker
    return {
        "v": _VERSION,
        "state": t._state.value,
        "ref_g": t._ref_g,
        "noise_var_g2": t._noise.var_g2,
        "noise_n": t._noise.n,
        "zero_g": t._zero_g,
        "diff_sq_g2": t._noise.pending_sq_g2,
        "diff_n": t._noise.pending_n,
        "hz": t._hz,
        "end_ms": t._end_ms,
        "tail_g": [float(x) for x in t._tail],
        "seen": t._seen,
        "still_from": t._still_from,
        "motion_ms": t._motion_ms,
        "gap_ms": t._gap_ms,
        "dropped_batches": t.dropped_batches,
    }


def load(tracker: ScaleTracker, snap: Mapping[str, object]) -> ScaleTracker:
    from ingest.weight import ScaleState

    if snap.get("v") not in (1, _VERSION):
        raise ValueError(f"unsupported weight snapshot version {snap.get('v')!r}")
    try:
        tracker._state = ScaleState(str(snap["state"]))
        tracker._ref_g = _opt_float(snap["ref_g"])
        tracker._noise.var_g2 = _float(snap["noise_var_g2"])
        tracker._noise.n = _float(snap["noise_n"])
        tracker._noise.pending_sq_g2 = _float(snap.get("diff_sq_g2", 0.0))
        tracker._noise.pending_n = _int(snap.get("diff_n", 0))
        tracker._zero_g = _float(snap.get("zero_g", tracker._zero_g))  # v1: the tare
        tracker._hz = _opt_float(snap["hz"])
        tracker._end_ms = _opt_float(snap["end_ms"])
        tail = snap["tail_g"]
        if not isinstance(tail, list):
            raise TypeError("tail_g must be a list")
        tracker._tail = np.array([_float(x) for x in tail], dtype=np.float64)
        tracker._seen = _int(snap["seen"])
        tracker._still_from = _int(snap["still_from"])
        tracker._motion_ms = _opt_int(snap["motion_ms"])
        tracker._gap_ms = _opt_int(snap["gap_ms"])
        tracker.dropped_batches = _int(snap.get("dropped_batches", 0))
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"malformed weight snapshot: {exc}") from exc
    if tracker._state is not ScaleState.UNKNOWN and tracker._ref_g is None:
        raise ValueError("malformed weight snapshot: a known state needs ref_g")
    return tracker


def _float(x: object) -> float:
    if isinstance(x, bool) or not isinstance(x, int | float):
        raise TypeError(f"expected a number, got {x!r}")
    return float(x)


def _opt_float(x: object) -> float | None:
    return None if x is None else _float(x)


def _int(x: object) -> int:
    if isinstance(x, bool) or not isinstance(x, int):
        raise TypeError(f"expected an integer, got {x!r}")
    return x


def _opt_int(x: object) -> int | None:
    return None if x is None else _int(x)
