"""The RFID accuracy bench runs, and shelfsense beats both fixed-window baselines on F1."""

from __future__ import annotations

import pytest
from support.benches import load_bench


@pytest.mark.slow
@pytest.mark.parametrize(("p", "cross", "outage"), [(0.6, 0.1, False), (0.3, 0.1, True)])
def test_quick_bench_shelfsense_beats_both_baselines(p: float, cross: float, outage: bool) -> None:
    bench = load_bench("rfid_accuracy")
    scores, _ = bench.run_config(bench.QUICK, p, cross, outage, 7, 4.0)
    ours, fixed_1s, fixed_10s = scores
    assert ours.f1 > max(fixed_1s.f1, fixed_10s.f1)
    assert ours.f1 > 0.9
    assert ours.invented == 0
