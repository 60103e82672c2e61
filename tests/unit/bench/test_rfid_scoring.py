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


def test_a_departure_nothing_had_to_see_counts_neither_way() -> None:
    # A's reader is down from just before the departure to the end of the run: the truth is
    # left out, and a departure told anyway (a portal exit tells it) is not a false movement.
    world = _world(Truth(EPC, "depart", T0 + 1_000_000, A, None))
    dark = {A: set(range((T0 // 1000) + 995, (T0 + 3_600_000) // 1000 + 1))}
    told = [_told(TagMoveKind.DEPART, 1_010, A, None)]
    s = score(world, told, 0, dark)
    assert (s.n_true, s.n_pred, s.false_per_1k_h) == (0, 0, 0.0)
    wrong = [_told(TagMoveKind.DEPART, 1_010, B, None)]  # a shelf the tag never was on
    assert score(world, wrong, 0, dark).false_per_1k_h > 0.0


def test_half_of_a_true_move_is_false_but_not_spurious() -> None:
    # moved A -> B and taken from B 30 s later, told as one departure from A: the departure
    # is unmatched (false) but the tag did leave A then, so it is not spurious
    world = _world(
        Truth(EPC, "move", T0 + 1_000_000, A, B), Truth(EPC, "depart", T0 + 1_030_000, B, None)
    )
    s = score(world, [_told(TagMoveKind.DEPART, 1_003, A, None)], 0, {})
    assert s.false_per_1k_h > 0.0 and s.spurious_per_1k_h == 0.0
    other = score(world, [_told(TagMoveKind.DEPART, 1_031, B, None)], 0, {})
    assert other.recall == 0.5  # matches the true departure from B instead
    invented = score(world, [_told(TagMoveKind.ARRIVE, 1_003, None, A)], 0, {})
    assert invented.spurious_per_1k_h > 0.0  # the move reached B, not A


def test_a_movement_matching_a_true_one_in_the_runs_tail_counts_neither_way() -> None:
    # the true arrival falls in the last TAIL_MS (left out); the tracker dated it 31 s earlier,
    # inside the scored window: it is that arrival, not a false one
    end_s = 3_600
    world = _world(Truth(EPC, "arrive", T0 + (end_s - 20) * 1000, None, B))
    s = score(world, [_told(TagMoveKind.ARRIVE, end_s - 51, None, B)], 0, {})
    assert (s.n_true, s.n_pred, s.n_false) == (0, 0, 0)
    elsewhere = score(world, [_told(TagMoveKind.ARRIVE, end_s - 51, None, A)], 0, {})
    assert elsewhere.n_spurious == 1


def test_a_stay_too_brief_to_see_told_as_the_net_movement_is_one_event() -> None:
    # put on A, moved to B 3 s later (less than a settle time): told as one arrival at B
    world = _world(
        Truth(EPC, "arrive", T0 + 1_000_000, None, A), Truth(EPC, "move", T0 + 1_003_000, A, B)
    )
    s = score(world, [_told(TagMoveKind.ARRIVE, 1_004, None, B)], 0, {})
    assert (s.precision, s.recall, s.n_true, s.n_false) == (1.0, 1.0, 1, 0)
    at_a = score(world, [_told(TagMoveKind.ARRIVE, 1_001, None, A)], 0, {})
    assert (at_a.n_false, at_a.recall) == (0, 0.5)  # the arrival at A itself; the move missed
    # the same two movements 30 s apart are a stay that the reads resolve: both must be told
    world = _world(
        Truth(EPC, "arrive", T0 + 1_000_000, None, A), Truth(EPC, "move", T0 + 1_030_000, A, B)
    )
    s = score(world, [_told(TagMoveKind.ARRIVE, 1_031, None, B)], 0, {})
    assert s.n_false == 1 and s.recall == 0.0


def test_a_stay_on_a_shelf_unobservable_all_through_it_told_as_the_net_is_one_event() -> None:
    # moved A -> B while B's reader was down, taken from B 190 s later, still down: the tag was
    # on no antenna that could hear it; one departure from A, dated into A's own outage, is it
    world = _world(
        Truth(EPC, "move", T0 + 1_000_000, A, B), Truth(EPC, "depart", T0 + 1_190_000, B, None)
    )
    s0 = T0 // 1000
    b_out = set(range(s0 + 990, s0 + 1_250))
    a_out = set(range(s0 + 995, s0 + 1_200))
    told = [_told(TagMoveKind.DEPART, 1_095, A, None)]  # A's outage middle, 95 s after the move
    s = score(world, told, 0, {A: a_out, B: b_out})
    assert (s.precision, s.recall, s.n_true, s.n_false) == (1.0, 1.0, 1, 0)
    # B heard for part of the stay: the reads could have resolved it, both must be told
    b_half = set(range(s0 + 1_100, s0 + 1_250))
    s = score(world, told, 0, {A: a_out, B: b_half})
    assert s.n_false == 1 and s.recall == 0.0
    # A observed after the move: a departure dated 95 s later is late, not a net movement
    s = score(world, told, 0, {B: b_out})
    assert s.n_false == 1 and s.recall == 0.0


def test_a_move_from_a_shelf_dark_to_the_end_to_a_true_arrival_is_that_arrival() -> None:
    # taken from A while A's reader is down to the end of the run, put on B 35 s later: B hears
    # it, so it has left A; told as one move A -> B, it is the arrival's event
    world = _world(
        Truth(EPC, "depart", T0 + 3_000_000, A, None),
        Truth(EPC, "arrive", T0 + 3_035_000, None, B),
    )
    dark = {A: set(range(T0 // 1000 + 2_900, T0 // 1000 + 3_600))}
    s = score(world, [_told(TagMoveKind.MOVE, 3_036, A, B)], 0, dark)
    assert (s.precision, s.recall, s.n_true, s.n_false) == (1.0, 1.0, 1, 0)
    # to the wrong shelf it is false, and the arrival missed
    s = score(world, [_told(TagMoveKind.MOVE, 3_036, A, A + "x")], 0, dark)
    assert (s.recall, s.n_false) == (0.0, 1)


def test_a_departure_and_a_later_arrival_told_late_as_one_move_is_false_not_spurious() -> None:
    # taken from A, put on B 150 s later; told as one move A -> B when B heard it: mis-dated
    world = _world(
        Truth(EPC, "depart", T0 + 1_000_000, A, None), Truth(EPC, "arrive", T0 + 1_150_000, None, B)
    )
    s = score(world, [_told(TagMoveKind.MOVE, 1_151, A, B)], 0, {})
    assert (s.n_false, s.n_spurious) == (1, 0)
    s = score(world, [_told(TagMoveKind.MOVE, 1_151, B, A)], 0, {})  # the other way: never
    assert (s.n_false, s.n_spurious) == (1, 1)


def test_half_of_a_move_told_for_a_truth_before_the_warm_up_ends_counts_neither_way() -> None:
    # moved A -> B 10 s before the scored window starts, told as a departure (before it) and an
    # arrival (25 s later, inside it): the arrival is that move's, not a false movement
    world = _world(Truth(EPC, "move", T0 + 110_000, A, B))
    told = [_told(TagMoveKind.DEPART, 110, A, None), _told(TagMoveKind.ARRIVE, 135, None, B)]
    s = score(world, told, 120_000, {})
    assert (s.n_true, s.n_pred, s.n_false) == (0, 0, 0)
    wrong = [told[0], _told(TagMoveKind.ARRIVE, 135, None, A)]
    assert score(world, wrong, 120_000, {}).n_false == 1


def test_a_move_told_for_a_departure_in_the_warm_up_and_a_later_arrival_is_that_arrival() -> None:
    # taken from A 48 s into the warm-up while A's antenna is out (until 226 s), put on B at
    # 185 s, inside the scored window; told as one move A -> B at 185.4 s (A dark from before
    # the departure to after the move): the arrival's event, its departure half left out with
    # the warm-up
    world = _world(
        Truth(EPC, "depart", T0 + 72_000, A, None),
        Truth(EPC, "arrive", T0 + 185_100, None, B),
    )
    dark = {A: set(range(T0 // 1000 + 8, T0 // 1000 + 226))}
    told = [(TagMovement(EPC, TagMoveKind.MOVE, T0 + 185_400, A, B, 1.0, {}), T0 + 230_500)]
    s = score(world, told, 120_000, dark)
    assert (s.precision, s.recall, s.n_true, s.n_false) == (1.0, 1.0, 1, 0)
    # with A observable meanwhile the departure half is 113 s off: a false move, the arrival
    # missed
    s = score(world, told, 120_000, {})
    assert (s.recall, s.n_false) == (0.0, 1)
