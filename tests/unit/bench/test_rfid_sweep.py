"""The RFID bench's false-movement sweep pools each configuration's runs, whatever the workers."""

from __future__ import annotations

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
        assert row.tag_hours == pytest.approx(sum(h for h, _, _ in direct))
        assert row.tag_hours > 0.5  # 12 items for 5 minutes after the warm-up, twice
        assert (row.false_moves, row.spurious) == (
            sum(f for _, f, _ in direct),
            sum(s for _, _, s in direct),
        )
        assert 0 <= row.spurious <= row.false_moves
