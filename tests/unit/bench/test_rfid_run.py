"""The RFID bench's store run reads a tag only while it is truly there, to the round."""

from __future__ import annotations

from collections import defaultdict

from support.benches import load_bench


def test_a_tag_is_read_only_in_the_rounds_it_is_there() -> None:
    run_mod = load_bench("rfid_run")
    size = run_mod.StoreSize(aisles=1, shelves=3, items=4, duration_s=900)
    world = run_mod.store_world(size, 11)
    readers = run_mod.make_readers(world, 0.9, 0.0, False, 11, 10.0)
    run = run_mod.Run(world, readers, [], False, 11, 500)
    run.run()
    # (no cross-reads between shelves; the portal's two sides still cross-read each other)
    # where each tag was, as (from_ms, until_ms, key) spans, from the world's own changes
    spans: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    open_at: dict[str, tuple[int, str]] = {}
    for ts, epc, key in world.changes:
        if epc in open_at:
            since, old = open_at.pop(epc)
            spans[epc].append((since, ts, old))
        if key is not None:
            open_at[epc] = (ts, key)
    for epc, (since, key) in open_at.items():
        spans[epc].append((since, world.end_ms, key))
    port_key = {(d, p): k for d, ports in world.readers.items() for p, k in ports.items()}
    reads = 0
    mid_batch = 0
    for dev, frame in run.frames:
        for epc, ant, ts in zip(frame.epc, frame.ant, frame.ts, strict=True):
            key = port_key[(dev, ant)]
            near = [s for s in spans[epc] if key in (s[2], *world.adjacency.get(s[2], ()))]
            there = [s for s in near if s[0] <= ts < s[1]]
            assert there, f"{epc} read on {key} at {ts} while it was not there or next door"
            reads += 1
            mid_batch += any(frame.t0_ms < s[1] < frame.t1_ms for s in there)
    assert reads > 10_000
    assert mid_batch > 0  # tags taken within a batch were read in it, before they were taken


def test_tracker_options_override_the_configuration() -> None:
    run_mod = load_bench("rfid_run")
    cfg = run_mod.tracker_config(["fade_rate_per_h=0", "min_window_ms=3000", "rounds_per_s=none"])
    assert (cfg.fade_rate_per_h, cfg.min_window_ms, cfg.rounds_per_s) == (0.0, 3000, None)
    assert isinstance(cfg.min_window_ms, int)
    assert run_mod.tracker_config([]) == run_mod.TrackerConfig()


def test_bad_tracker_options_are_refused_by_name() -> None:
    import pytest

    from ingest.rfid_types import RfidConfigError

    run_mod = load_bench("rfid_run")
    with pytest.raises(ValueError, match="KEY one of"):
        run_mod.tracker_config(["fade_rate=0"])
    with pytest.raises(ValueError, match="expected KEY=VALUE"):
        run_mod.tracker_config(["fade_rate_per_h"])
    with pytest.raises(ValueError, match=r"'2\.5' is not an integer"):
        run_mod.tracker_config(["min_window_ms=2.5"])
    with pytest.raises(RfidConfigError):  # a value the tracker itself refuses
        run_mod.tracker_config(["fade_rate_per_h=-1"])
