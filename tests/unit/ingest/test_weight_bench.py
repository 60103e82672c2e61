"""The weight benchmark's quick mode runs and ScaleTracker beats the AutoCheckout-style baseline."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[3] / "bench" / "weight_accuracy.py"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("weight_accuracy_bench", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_quick_bench_tracker_beats_the_baseline_on_f1() -> None:
    bench = _bench()
    rows = bench.run_benchmark(quick=True)
    assert len(rows) == 30
    tracker_f1 = sum(r.tracker.f1 for r in rows) / len(rows)
    baseline_f1 = sum(r.baseline.f1 for r in rows) / len(rows)
    assert tracker_f1 > baseline_f1
    assert tracker_f1 > 0.99
    target = [r for r in rows if r.noise_g <= 1.0]
    assert all(r.tracker.drift_false_per_24h == 0 for r in target)
    table = bench.format_table(rows)
    assert "ScaleTracker" in table and "AutoCheckout" in table


def test_bank_throughput_runs_and_takes_the_kernels() -> None:
    bench = _bench()
    rate = bench.bank_throughput(10.0, scales=12, total_s=40, traces=3)
    assert rate.samples_per_s > 0
    assert rate.quiet_share + rate.run_share + rate.tracker_share == pytest.approx(1.0)
    assert rate.quiet_share > 0.5 and rate.tracker_share < 0.2
