"""What an outage leaves for the tracker to date: a replayed queue, a shelf with its antenna out."""

from __future__ import annotations

from dataclasses import dataclass, field

from ingest.rfid import AntennaSpec, TagMoveKind, TagMovement, TagTracker, TrackerConfig

T0 = 1_763_719_200_000
EPC = "3034257BF7194E4000001A85"
OTHER = "3034257BF7194E4000009999"
A, A_NEXT, B = "aisle-1/shelf-1", "aisle-1/shelf-2", "aisle-2/shelf-1"
SPECS = [AntennaSpec("r1", 1, A), AntennaSpec("r1", 2, A_NEXT), AntennaSpec("r2", 1, B)]
Read = tuple[str, int, float, int]  # epc, port, rssi, n


@dataclass
class Site:
    """r1 (shelves A and A_NEXT) and r2 (shelf B), one-second batches; r1's batches can be held
    (its gateway offline) and replayed when it is back, before its next live batch."""

    tracker: TagTracker = field(
        default_factory=lambda: TagTracker(TrackerConfig(rounds_per_s=10.0), SPECS)
    )
    out: list[TagMovement] = field(default_factory=list)
    held: list[tuple[int, list[Read], list[int]]] = field(default_factory=list)

    def feed(self, device: str, k: int, reads: list[Read], ants: list[int]) -> None:
        t0 = T0 + k * 1000
        epc, ant, rssi, n = ([r[i] for r in reads] for i in range(4))
        ts = [t0 + 500] * len(reads)
        self.out += self.tracker.observe(device, t0, t0 + 1000, ants, epc, ant, rssi, ts, n)  # type: ignore[arg-type]

    def second(
        self, k: int, r1: list[Read], r2: list[Read], *, r1_ants: tuple[int, ...] = (1, 2),
        hold_r1: bool = False,
    ) -> None:  # fmt: skip
        if hold_r1:
            if not self.held:
                self.tracker.device_offline("r1", T0 + k * 1000)
            self.held.append((k, r1, list(r1_ants)))
        else:
            for held_k, reads, ants in self.held:
                self.feed("r1", held_k, reads, ants)
            self.held = []
            self.feed("r1", k, r1, list(r1_ants))
        self.feed("r2", k, r2, [1])
        self.out += self.tracker.expire(T0 + (k + 1) * 1000)

    def moves(self, epc: str = EPC) -> list[tuple[TagMoveKind, str | None, str | None, float]]:
        return [
            (m.kind, m.from_location, m.to_location, (m.ts_ms - T0) / 1000)
            for m in self.out
            if m.epc == epc
        ]


def test_a_tag_put_and_taken_during_a_gateway_outage_is_told_from_the_replay() -> None:
    """r1's gateway is offline from 60 s to 160 s. The tag is put on A at 70 s and taken at
    120 s; a tag first heard live on B at 158 s is still tentative when r1's queue comes back.
    The replayed tag is settled at its own event time (not skipped because a tag added to the
    tracker before it was first heard later), so both its movements are told."""
    site = Site()
    for k in range(60):
        site.second(k, [], [])
    for k in range(60, 160):
        on_a = [(EPC, 1, -48.0, 6)] if 70 <= k < 120 else []
        site.second(k, on_a, [(OTHER, 1, -50.0, 6)] if k >= 158 else [], hold_r1=True)
    for k in range(160, 200):
        site.second(k, [], [(OTHER, 1, -50.0, 6)])
    kinds = [(kind, frm, to) for kind, frm, to, _ in site.moves()]
    assert kinds == [(TagMoveKind.ARRIVE, None, A), (TagMoveKind.DEPART, A, None)]
    arrived_s, departed_s = site.moves()[0][3], site.moves()[1][3]
    assert 70.0 <= arrived_s <= 71.0
    assert 119.5 <= departed_s <= 121.0


def _antenna_out_story(heard_next_door: bool) -> Site:
    """A tag on A (r1 port 1) and one on A_NEXT, cross-read by each other's antenna, so the two
    shelves are neighbours. At 60 s A's antenna drops out of r1's `ants` (r1 keeps reporting).
    From 70 s the tag is heard loud on B (r2), another aisle; or, with `heard_next_door`, on
    A_NEXT, where a tag still on A could be cross-read."""
    site = Site()
    cross = [(EPC, 2, -62.0, 2), (OTHER, 1, -62.0, 2)]
    for k in range(60):
        site.second(k, [(EPC, 1, -48.0, 6), (OTHER, 2, -48.0, 6), *cross], [])
    for k in range(60, 120):
        here = [(OTHER, 2, -48.0, 6)]
        if k >= 70 and heard_next_door:
            here.append((EPC, 2, -48.0, 6))
        far = [(EPC, 1, -48.0, 6)] if k >= 70 and not heard_next_door else []
        site.second(k, here, far, r1_ants=(2,))
    return site


def test_a_tag_heard_loud_in_another_aisle_leaves_a_shelf_whose_antenna_is_out() -> None:
    """Its home cannot hear it, but no cross-read of home reaches another aisle: after twice the
    settle time of loud reads there it has moved, dated by its first read there, while home
    is still out (before: held on A until A's antenna came back)."""
    site = _antenna_out_story(heard_next_door=False)
    moves = site.moves()
    assert [(kind, frm, to) for kind, frm, to, _ in moves] == [
        (TagMoveKind.ARRIVE, None, A),
        (TagMoveKind.MOVE, A, B),
    ]
    assert 70.0 <= moves[1][3] <= 71.0
    assert site.tracker.present()[EPC] == B


def test_a_tag_heard_next_door_stays_on_a_shelf_whose_antenna_is_out() -> None:
    """Heard only on the neighbour that cross-reads A's tags, it may still be on A: no move while
    A cannot weigh it (its stock there is unknown, not moved)."""
    site = _antenna_out_story(heard_next_door=True)
    assert [(kind, frm, to) for kind, frm, to, _ in site.moves()] == [(TagMoveKind.ARRIVE, None, A)]
    assert site.tracker.present()[EPC] == A


def test_a_move_from_a_shelf_gone_dark_is_dated_by_the_loud_run_where_it_went() -> None:
    """A's antenna is out from 50 s to 54 s (the tag leaves A meanwhile), back for one batch,
    then r1's gateway goes offline at 55 s (its queue held until 130 s). The tag is on B (r2,
    live) from 60 s, 8 dB fainter than on A: B leads only once A's evidence lapses (A's reader
    silent for `device_silence_ms`), ~20 s later. The move is dated by its first loud read on
    B (home never heard it after), not by when that lead began."""
    site = Site()
    for k in range(50):
        site.second(k, [(EPC, 1, -45.0, 6)], [])
    for k in range(50, 55):
        site.second(k, [], [], r1_ants=(2,) if k < 54 else (1, 2))
    for k in range(55, 130):
        site.second(k, [], [(EPC, 1, -53.0, 6)] if k >= 60 else [], hold_r1=True)
    for k in range(130, 150):
        site.second(k, [], [(EPC, 1, -53.0, 6)])
    moves = site.moves()
    assert [(kind, frm, to) for kind, frm, to, _ in moves] == [
        (TagMoveKind.ARRIVE, None, A),
        (TagMoveKind.MOVE, A, B),
    ]
    assert 60.0 <= moves[1][3] <= 61.0


def test_a_replayed_queue_does_not_bring_back_a_tag_that_left_its_shelf_meanwhile() -> None:
    """The tag is on A; r1's gateway is offline from 60 s to 160 s. It leaves A at 80 s (r1's
    held batches still hear it until then), is heard live on B (r2, another aisle) from 100 s
    (a move from A, which cannot be heard) and taken from B at 130 s (a departure). When r1's
    queue comes back, its reads on A from before the tag's last read on B are where it was, not
    where it went: no arrival at A (before: told again on A, and departed at once)."""
    site = Site()
    for k in range(60):
        site.second(k, [(EPC, 1, -48.0, 6)], [])
    for k in range(60, 160):
        on_a = [(EPC, 1, -48.0, 6)] if k < 80 else []
        on_b = [(EPC, 1, -48.0, 6)] if 100 <= k < 130 else []
        site.second(k, on_a, on_b, hold_r1=True)
    for k in range(160, 200):
        site.second(k, [], [])
    moves = site.moves()
    assert [(kind, frm, to) for kind, frm, to, _ in moves] == [
        (TagMoveKind.ARRIVE, None, A),
        (TagMoveKind.MOVE, A, B),
        (TagMoveKind.DEPART, B, None),
    ]
    assert 100.0 <= moves[1][3] <= 101.0
    assert 129.5 <= moves[2][3] <= 132.0
    assert EPC not in site.tracker.present()


def test_a_move_made_while_the_reader_was_down_is_dated_into_the_outage() -> None:
    """r1 (A and A_NEXT, neighbours: each cross-reads the other's tag) sends nothing from 60 s
    to 120 s; the tag moved from A to A_NEXT meanwhile. Back, A_NEXT hears it loud in its first
    batch and A cross-reads it faintly twice, then A is silent for the tag's window: a move, and
    it happened in the outage (dated to its end, not to A's last faint cross-read, which was of
    the tag already next door)."""
    site = Site()
    cross = [(OTHER, 1, -62.0, 2)]
    for k in range(60):
        reads = [(EPC, 1, -48.0, 6), (EPC, 2, -62.0, 2), (OTHER, 2, -48.0, 6), *cross]
        site.feed("r1", k, reads, [1, 2])
        site.out += site.tracker.expire(T0 + (k + 1) * 1000)
    for k in range(60, 120):
        site.out += site.tracker.expire(T0 + (k + 1) * 1000)
    for k in range(120, 140):
        faint = [(EPC, 1, -60.0, 1)] if k in (120, 121) else []
        site.feed("r1", k, [(EPC, 2, -48.0, 6), (OTHER, 2, -48.0, 6), *cross, *faint], [1, 2])
        site.out += site.tracker.expire(T0 + (k + 1) * 1000)
    moves = site.moves()
    assert [(kind, frm, to) for kind, frm, to, _ in moves] == [
        (TagMoveKind.ARRIVE, None, A),
        (TagMoveKind.MOVE, A, A_NEXT),
    ]
    assert 60.0 <= moves[1][3] < 120.0


def test_a_new_tag_whose_shelf_goes_dark_at_once_is_not_settled_next_door() -> None:
    """The store opens: the tag is heard loud on A for a second, then A's antenna drops out of
    r1's `ants` for 20 s while A_NEXT goes on cross-reading it. It is held (where it was heard
    loudest is not observing), not settled next door on cross-reads, and arrives on A."""
    site = Site()
    for k in range(40):
        a_on = k < 1 or k >= 21
        home = [(EPC, 1, -45.0, 6)] if a_on else []
        site.second(k, [*home, (EPC, 2, -55.0, 2)], [], r1_ants=(1, 2) if a_on else (2,))
    assert [(kind, frm, to) for kind, frm, to, _ in site.moves()] == [(TagMoveKind.ARRIVE, None, A)]


def test_a_tag_carried_across_the_store_in_a_second_does_not_make_neighbours() -> None:
    """OTHER is carried from A to B (another reader's shelf) and heard on B a second after its
    last read on A: one such read does not make A and B neighbours. So when A's antenna drops
    out later, EPC moved from A_NEXT to B is moved at once: B has no neighbour that is out whose
    tag it might be cross-reading (with A taken for one, the move waited for A's return)."""
    site = Site()
    for k in range(30):
        cross = [(EPC, 1, -65.0, 1), (OTHER, 2, -65.0, 1)] if k % 5 == 0 else []
        site.second(k, [(OTHER, 1, -50.0, 3), (EPC, 2, -50.0, 3), *cross], [])
    for k in range(30, 60):
        site.second(k, [(EPC, 2, -50.0, 3)], [(OTHER, 1, -50.0, 3)])
    for k in range(60, 70):
        site.second(k, [(EPC, 2, -50.0, 3)], [(OTHER, 1, -50.0, 3)], r1_ants=(2,))
    for k in range(70, 90):
        site.second(k, [], [(OTHER, 1, -50.0, 3), (EPC, 1, -50.0, 3)], r1_ants=(2,))
    assert [(kind, frm, to) for kind, frm, to, _ in site.moves(OTHER)] == [
        (TagMoveKind.ARRIVE, None, A),
        (TagMoveKind.MOVE, A, B),
    ]
    mine = [m for m in site.out if m.epc == EPC]
    assert [(m.kind, m.from_location, m.to_location) for m in mine] == [
        (TagMoveKind.ARRIVE, None, A_NEXT),
        (TagMoveKind.MOVE, A_NEXT, B),
    ]
    assert mine[1].ts_ms == T0 + 70_500
    detected = mine[1].evidence["detected_ms"]
    assert isinstance(detected, int) and detected <= T0 + 75_000
