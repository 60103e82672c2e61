"""The false-movement catalogue prints each movement with the truth and outages around it."""

from __future__ import annotations

from support.benches import load_bench

load_bench("rfid_false")  # bench/ on sys.path, as when the bench runs

from rfid_false import _block  # noqa: E402
from rfid_scenario import Truth, World  # noqa: E402
from rfid_sweep import parse_configs, parse_seeds  # noqa: E402

from firmware_sim.devices.rfid_reader import ReaderDevice  # noqa: E402
from ingest.rfid import TagMoveKind, TagMovement  # noqa: E402

T0 = 1_763_719_200_000
A, B = "floor/aisle-1/shelf-1", "floor/aisle-1/shelf-2"
EPC = "30340000000000000000017B"


def test_a_block_names_the_movement_the_truth_around_it_and_the_outages() -> None:
    world = World(T0, T0 + 3_600_000, [A, B], {A: "SKU-A", B: "SKU-B"}, {}, {})
    world.truth += [
        Truth(EPC, "move", T0 + 100_000, A, B),
        Truth(EPC, "depart", T0 + 2_000_000, B, None),  # far off: not listed
    ]
    reader = ReaderDevice(device_id="reader-1", antennas={1: A, 2: B}, seed=1)
    reader.frame(T0, T0 + 1000, {EPC: A})
    told = TagMovement(EPC, TagMoveKind.MOVE, T0 + 130_000, A, B, 0.9, {"reads": 3.0})
    dark = {A: set(range(T0 // 1000 + 90, T0 // 1000 + 120)) | {T0 // 1000 + 200}}
    text = _block(told, False, T0 + 131_500, world, {"reader-1": reader}, dark)
    lines = text.splitlines()
    assert lines[0] == f"move {A} -> {B} at 130.0 (emitted 131.5), conf 0.900 [real, mis-told]"
    assert f"   truth move {A} -> {B} at 100.0" in lines
    assert not any("depart" in line for line in lines)
    assert f"read prob reader-1 p={reader.read_probability(EPC):.2f}" in [s.strip() for s in lines]
    assert f"   dark {A}: 90.0-120.0, 200.0-201.0" in lines
    assert not any(B + ":" in line for line in lines if "dark" in line)


def test_seeds_and_configurations_parse() -> None:
    assert parse_seeds("35-37") == [35, 36, 37]
    assert parse_seeds("40") == [40]
    assert parse_configs("0.3/10/on,0.9/0/off") == [(0.3, 0.1, True), (0.9, 0.0, False)]
    assert len(parse_configs(None)) == 18
