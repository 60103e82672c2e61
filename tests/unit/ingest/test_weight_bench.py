"""The weight benchmark's quick mode runs and ScaleTracker beats the AutoCheckout-style baseline."""

from __future__ import annotations

import pytest
from support.benches import load_bench


@pytest.mark.slow
def test_quick_bench_tracker_beats_the_baseline_on_f1() -> None:
    bench = load_bench("weight_accuracy")
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
    bench = load_bench("weight_accuracy")
    rate = bench.bank_throughput(10.0, scales=12, total_s=40, traces=3)
    assert rate.samples_per_s > 0
    assert rate.quiet_share + rate.run_share + rate.tracker_share == pytest.approx(1.0)
    assert rate.quiet_share > 0.5 and rate.tracker_share < 0.2
