"""The RFID bench's scoring rules: tolerance, movements during outages, moves told two ways."""

from __future__ import annotations

from support.benches import load_bench

load_bench("rfid_scoring")  # bench/ on sys.path, as when the bench runs

from rfid_scenario import Truth, World  # noqa: E402
from rfid_scoring import score  # noqa: E402

from ingest.rfid import TagMoveKind, TagMovement  # noqa: E402

T0 = 1_763_719_200_000
A, B = "floor/aisle-1/shelf-1", "floor/aisle-2/shelf-1"
EPC = "3034257BF7194E4000000001"


def _world(*truth: Truth) -> World:
    world = World(T0, T0 + 3_600_000, [A, B], {A: "SKU-A", B: "SKU-B"}, {}, {})
    world.truth.extend(truth)
    world.sku_of[EPC] = "SKU-A"
    world.changes.append((T0, EPC, A))
    return world


def _told(
    kind: TagMoveKind, ts_s: int, src: str | None, dst: str | None
) -> tuple[TagMovement, int]:
    return TagMovement(EPC, kind, T0 + ts_s * 1000, src, dst, 1.0, {}), T0 + ts_s * 1000 + 3000


def test_a_movement_dated_far_off_matches_only_inside_one_outage_of_its_shelf() -> None:
    world = _world(Truth(EPC, "depart", T0 + 1_000_000, A, None))
    told = [_told(TagMoveKind.DEPART, 1_150, A, None)]  # 150 s off: beyond the tolerance
    assert score(world, told, 0, {}).recall == 0.0
    dark = {A: set(range((T0 // 1000) + 990, (T0 // 1000) + 1_200))}  # A was out meanwhile
    assert score(world, told, 0, dark).recall == 1.0
    assert score(world, told, 0, dark).precision == 1.0


def test_a_move_told_as_a_departure_and_an_arrival_is_one_event() -> None:
    world = _world(Truth(EPC, "move", T0 + 1_000_000, A, B))
    told = [_told(TagMoveKind.DEPART, 1_002, A, None), _told(TagMoveKind.ARRIVE, 1_020, None, B)]
    s = score(world, told, 0, {})
    assert (s.precision, s.recall, s.n_true) == (1.0, 1.0, 1)
    wrong_shelf = [told[0], _told(TagMoveKind.ARRIVE, 1_020, None, A)]
    assert score(world, wrong_shelf, 0, {}).recall == 0.0


def test_a_departure_and_an_arrival_told_as_one_move_is_one_event() -> None:
    world = _world(
        Truth(EPC, "depart", T0 + 1_000_000, A, None), Truth(EPC, "arrive", T0 + 1_030_000, None, B)
    )
    s = score(world, [_told(TagMoveKind.MOVE, 1_010, A, B)], 0, {})
    assert (s.precision, s.recall, s.n_true) == (1.0, 1.0, 1)


def test_a_false_departure_is_spurious_even_when_the_tag_really_leaves_later() -> None:
    world = _world(Truth(EPC, "depart", T0 + 1_000_000, A, None))
    told = [
        _told(TagMoveKind.DEPART, 500, A, None),  # a fade, not a departure
        _told(TagMoveKind.ARRIVE, 503, None, A),
        _told(TagMoveKind.DEPART, 1_001, A, None),  # the real one
    ]
    s = score(world, told, 0, {})
    assert s.recall == 1.0 and s.n_pred == 3
    assert s.spurious_per_1k_h == s.false_per_1k_h > 0.0
