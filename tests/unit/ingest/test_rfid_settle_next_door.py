"""A new tag heard only next door before its own antenna reads it is not settled next door."""

from __future__ import annotations

from dataclasses import dataclass, field

from ingest.rfid import AntennaSpec, TagMoveKind, TagMovement, TagTracker, TrackerConfig

T0 = 1_763_719_200_000
EPC = "3034257BF7194E4000001A85"
ONE, TWO = "aisle-1/shelf-1", "aisle-1/shelf-2"
SPECS = [AntennaSpec("r1", 1, ONE), AntennaSpec("r1", 2, TWO)]
Read = tuple[str, int, float, int]  # epc, port, rssi, n


def _stock(port: int) -> list[str]:
    return [f"3034257BF7194E40000{port}{i:04d}" for i in range(5)]


@dataclass
class Shelves:
    """Two neighbouring shelves of five tags each, read 3 times a second at -50 dBm; every
    fifth second one tag of each is cross-read by the other shelf's antenna at -65 dBm."""

    tracker: TagTracker = field(
        default_factory=lambda: TagTracker(TrackerConfig(rounds_per_s=10.0), SPECS)
    )
    out: list[TagMovement] = field(default_factory=list)

    def second(self, k: int, extra: list[Read], *, shadow_two: bool = False) -> None:
        reads: list[Read] = [(e, 1, -50.0, 3) for e in _stock(1)]
        if not shadow_two:  # someone in front of shelf-2: its antenna reads none of its tags
            reads += [(e, 2, -50.0, 3) for e in _stock(2)]
        if k % 5 == 0:
            reads += [(_stock(1)[k % 3], 2, -65.0, 1), (_stock(2)[k % 3], 1, -65.0, 1)]
        reads += extra
        t0 = T0 + k * 1000
        epc, ant, rssi, n = ([r[i] for r in reads] for i in range(4))
        ts = [t0 + 500] * len(reads)
        self.out += self.tracker.observe("r1", t0, t0 + 1000, [1, 2], epc, ant, rssi, ts, n)  # type: ignore[arg-type]
        self.out += self.tracker.expire(t0 + 1000)

    def moves(self, epc: str = EPC) -> list[tuple[TagMoveKind, str | None, str | None, float]]:
        return [
            (m.kind, m.from_location, m.to_location, (m.ts_ms - T0) / 1000)
            for m in self.out
            if m.epc == epc
        ]


def test_a_tag_put_on_a_shadowed_shelf_is_not_settled_on_its_neighbours_cross_reads() -> None:
    """Someone stands in front of shelf-2 from 100 s to 108 s while a tag is put on it: shelf-1's
    antenna cross-reads it (as loud as its own tags, 2 reads a second), shelf-2's reads nothing.
    While shelf-2 is short of reads, and a settle time after, the tag is not settled next door;
    when shelf-2 is read again the tag arrives there (seed 222 of the accuracy bench)."""
    shelves = Shelves()
    for k in range(100):
        shelves.second(k, [])
    for k in range(100, 108):
        shelves.second(k, [(EPC, 1, -52.0, 2)] if k > 100 else [], shadow_two=True)
    for k in range(108, 130):
        shelves.second(k, [(EPC, 2, -50.0, 3), (EPC, 1, -62.0, 1)])
    assert shelves.moves() == [(TagMoveKind.ARRIVE, None, TWO, 108.5)]
    assert all(m.kind is TagMoveKind.ARRIVE for m in shelves.out)  # the shadow made no departures


def test_a_tag_heard_next_door_far_quieter_than_the_tags_there_waits_for_its_own_shelf() -> None:
    """A tag put on shelf-2 at 100 s goes unread by shelf-2's antenna for 4 s; shelf-1's
    cross-reads it at -70 dBm, 20 dB below shelf-1's own tags. That is not settled at shelf-1
    on a settle time's evidence; once shelf-2 reads it, it arrives there (seed 220)."""
    shelves = Shelves()
    for k in range(100):
        shelves.second(k, [])
    for k in range(100, 104):
        shelves.second(k, [(EPC, 1, -70.0, 1)])
    for k in range(104, 130):
        shelves.second(k, [(EPC, 2, -50.0, 3), (EPC, 1, -70.0, 1)])
    assert shelves.moves() == [(TagMoveKind.ARRIVE, None, TWO, 104.5)]


def test_a_quiet_tag_heard_only_on_its_own_shelf_arrives_after_twice_the_settle_time() -> None:
    """A tag read only by shelf-1, at -70 dBm (20 dB below its neighbours there: badly placed,
    or behind a can), is settled there after twice the settle time, dated by its first read."""
    shelves = Shelves()
    for k in range(100):
        shelves.second(k, [])
    for k in range(100, 115):
        shelves.second(k, [(EPC, 1, -70.0, 2)])
    assert shelves.moves() == [(TagMoveKind.ARRIVE, None, ONE, 100.5)]
    detected = shelves.out[-1].evidence["detected_ms"]
    assert isinstance(detected, int) and detected >= T0 + 106_000
