"""The RFID accuracy bench runs, and shelfsense beats both fixed-window baselines on F1."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[3] / "bench" / "rfid_accuracy.py"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("rfid_accuracy_bench", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.parametrize(("p", "cross", "outage"), [(0.6, 0.1, False), (0.3, 0.1, True)])
def test_quick_bench_shelfsense_beats_both_baselines(p: float, cross: float, outage: bool) -> None:
    bench = _bench()
    scores, _ = bench.run_config(bench.QUICK, p, cross, outage, 7, 4.0)
    ours, fixed_1s, fixed_10s = scores
    assert ours.f1 > max(fixed_1s.f1, fixed_10s.f1)
    assert ours.f1 > 0.9
    assert ours.invented == 0
