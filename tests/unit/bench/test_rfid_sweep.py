"""The RFID bench's false-movement sweep pools each configuration's runs, whatever the workers."""

from __future__ import annotations

import math

import pytest
from support.benches import load_bench


@pytest.mark.slow
def test_the_sweep_pools_every_configurations_runs() -> None:
    sweep = load_bench("rfid_sweep")
    size = load_bench("rfid_run").StoreSize(aisles=1, shelves=3, items=4, duration_s=420)
    rows = sweep.sweep(size, [3, 4], 10.0, 500, workers=2)
    assert [r.config for r in rows] == sweep.CONFIGS
    for row in (rows[0], rows[9], rows[-1]):
        direct = [sweep.one_run(size, row.config, seed, 10.0, 500) for seed in (3, 4)]
        assert row.runs == 2
        assert row.tag_hours == pytest.approx(sum(r[0] for r in direct))
        assert row.tag_hours > 0.5  # 12 items for 5 minutes after the warm-up, twice
        assert (row.false_moves, row.spurious) == (
            sum(r[1] for r in direct),
            sum(r[2] for r in direct),
        )
        assert 0 <= row.spurious <= row.false_moves
        assert sorted(row.lat_p95_s) == sorted(r[3] for r in direct if not math.isnan(r[3]))


@pytest.mark.slow
def test_the_sweeps_tracker_options_reach_the_tracker(capsys: pytest.CaptureFixture[str]) -> None:
    """A departure window of at least 12 s shows in the departure p95 of every run; the CLI
    runs only the configurations asked for, and prints the options it ran with."""
    sweep = load_bench("rfid_sweep")
    size = load_bench("rfid_run").StoreSize(aisles=1, shelves=3, items=4, duration_s=900)
    config = (0.9, 0.0, False)
    plain = sweep.sweep(size, [5, 6], 10.0, 500, workers=2, configs=[config])
    slow_cfg = load_bench("rfid_run").tracker_config(["min_window_ms=12000"])
    slow = sweep.sweep(size, [5, 6], 10.0, 500, workers=2, configs=[config], cfg=slow_cfg)
    assert len(plain[0].lat_p95_s) == len(slow[0].lat_p95_s) == 2
    assert max(plain[0].lat_p95_s) < 5.0
    assert min(slow[0].lat_p95_s) >= 12.0
    rows = sweep.main(["--seeds", "5", "--quick", "--configs", "0.9/0/off,0.3/30/on",
                       "--tracker", "fade_rate_per_h=0"])  # fmt: skip
    assert [r.config for r in rows] == [(0.9, 0.0, False), (0.3, 0.3, True)]
    out = capsys.readouterr().out
    assert "tracker: fade_rate_per_h=0" in out
    assert "dep p95 med / max" in out
