"""The simulated RFID reader: deterministic, configured read rates, weak cross-reads, outages."""

from __future__ import annotations

from firmware_sim.devices.rfid_reader import ReaderDevice, ReaderFrame, Stay

ANTENNAS = {1: "a", 2: "b"}
TAGS = {f"3034{i:020X}": "a" for i in range(200)}


def _reader(**kw: object) -> ReaderDevice:
    args: dict[str, object] = {
        "device_id": "r1",
        "antennas": ANTENNAS,
        "seed": 5,
        "adjacency": {"a": ["b"], "b": ["a"]},
    }
    args.update(kw)
    return ReaderDevice(**args)  # type: ignore[arg-type]


def _frames(reader: ReaderDevice, seconds: int) -> list[ReaderFrame | None]:
    return [reader.frame(k * 1000, (k + 1) * 1000, TAGS) for k in range(seconds)]


def test_same_seed_same_frames() -> None:
    assert _frames(_reader(), 20) == _frames(_reader(), 20)
    assert _frames(_reader(), 20) != _frames(_reader(seed=6), 20)


def test_rows_follow_the_contract() -> None:
    frame = _reader().frame(0, 1000, TAGS)
    assert frame is not None and frame.ants == [1, 2]
    assert len(frame.epc) == len(frame.ant) == len(frame.rssi) == len(frame.ts) == len(frame.n)
    assert all(0 <= t < 1000 for t in frame.ts)
    assert all(1 <= n <= 4 for n in frame.n)


def test_read_rate_matches_the_per_tag_probability() -> None:
    reader = _reader(
        read_prob=(0.6, 0.6),
        cross_read_rate=0.0,
        burst_fade_rate_per_h=0.0,
        tag_fade_rate_per_h=0.0,
    )
    frames = [f for f in _frames(reader, 50) if f is not None]
    reads = sum(sum(f.n) for f in frames)
    assert abs(reads / (200 * 50 * 4) - 0.6) < 0.02


def test_cross_reads_are_rarer_and_weaker() -> None:
    frames = [f for f in _frames(_reader(cross_read_rate=0.3), 30) if f is not None]
    own = [(r, n) for f in frames for a, r, n in zip(f.ant, f.rssi, f.n, strict=True) if a == 1]
    cross = [(r, n) for f in frames for a, r, n in zip(f.ant, f.rssi, f.n, strict=True) if a == 2]
    assert 0.1 < sum(n for _, n in cross) / sum(n for _, n in own) < 0.5
    assert sum(r for r, _ in cross) / len(cross) < sum(r for r, _ in own) / len(own) - 3.0


def test_outages_drop_batches_and_antennas() -> None:
    frames = _frames(_reader(outage_rate_per_h=60.0, antenna_fail_rate_per_h=60.0), 3600)
    assert 0 < sum(f is None for f in frames) < 3000
    assert any(f is not None and f.ants != [1, 2] for f in frames)
    assert all(set(f.ant) <= set(f.ants) for f in frames if f is not None)


def _read_share(batch_ms: int) -> float:
    """Share of tag-rounds read in 10 minutes of p = 1 tags under frequent short deep fades."""
    reader = _reader(
        read_prob=(1.0, 1.0),
        cross_read_rate=0.0,
        burst_fade_rate_per_h=0.0,
        tag_fade_rate_per_h=600.0,
        tag_fade_mean_s=0.3,
        rounds_per_s=10.0,
    )
    frames = [reader.frame(t, t + batch_ms, TAGS) for t in range(0, 600_000, batch_ms)]
    reads = sum(sum(f.n) for f in frames if f is not None)
    return reads / (len(TAGS) * 600 * 10)


def test_fades_do_the_same_to_reads_whatever_the_batch_length() -> None:
    """Fades start and end between rounds, not at batch starts: a 0.3 s fade costs ~3 rounds
    whether the gateway cuts 250 ms or 1 s batches (a fade every 6 s, faded p = 0.1: about
    1 - 0.9 * 0.3 / 6.3 of the rounds are read; when fades started at batch starts and lasted
    whole batches, 1 s batches lost four times as many rounds)."""
    short, long_ = _read_share(250), _read_share(1000)
    assert abs(short - long_) < 0.01
    assert 0.94 < short < 0.97


def test_rounds_keep_a_steady_cadence_across_batches() -> None:
    """A p = 1 tag is read once per round: 2 or 3 times per 250 ms batch, 10 per second."""
    reader = _reader(read_prob=(1.0, 1.0), cross_read_rate=0.0, burst_fade_rate_per_h=0.0,
                     tag_fade_rate_per_h=0.0, rounds_per_s=10.0)  # fmt: skip
    epc = next(iter(TAGS))
    counts = []
    for t in range(0, 4000, 250):
        f = reader.frame(t, t + 250, {epc: "a"})
        assert f is not None
        counts.append(f.n[f.epc.index(epc)])
    assert set(counts) <= {2, 3}
    assert sum(counts) == 40


def _steady(**kw: object) -> ReaderDevice:
    """Read every round, no fades or occlusions: what a stay allows is all that limits reads."""
    return _reader(
        read_prob=(1.0, 1.0),
        rounds_per_s=10.0,
        tag_fade_rate_per_h=0.0,
        burst_fade_rate_per_h=0.0,
        **kw,
    )


def test_a_tag_put_down_during_a_batch_is_read_only_from_then() -> None:
    epc = next(iter(TAGS))
    frame = _steady(cross_read_rate=0.0).frame(0, 1000, {}, [Stay(epc, "a", 620.0, 1000.0)])
    assert frame is not None and frame.epc == [epc] and frame.ant == [1]
    assert frame.n[0] in (3, 4)  # a round every 100 ms (its phase drawn): 380 ms of them
    assert frame.ts[0] >= 880


def test_a_tag_taken_during_a_batch_is_not_read_after_it_was_taken() -> None:
    epc = next(iter(TAGS))
    reader = _steady(cross_read_rate=0.0)
    frame = reader.frame(0, 1000, {}, [Stay(epc, "a", 0.0, 250.0)])
    assert frame is not None and frame.n[0] in (2, 3) and 150 <= frame.ts[0] < 250
    later = reader.frame(1000, 2000, {})
    assert later is not None and later.epc == []


def test_a_tag_moved_within_a_batch_between_two_antennas_has_one_row_per_antenna() -> None:
    epc = next(iter(TAGS))
    reader = _steady(cross_read_rate=1.0)  # cross-read in every round next door, too
    stays = [Stay(epc, "a", 0.0, 500.0), Stay(epc, "b", 500.0, 1000.0)]
    frame = reader.frame(0, 1000, {}, stays)
    assert frame is not None
    rows = list(zip(frame.epc, frame.ant, strict=True))
    assert sorted(rows) == [(epc, 1), (epc, 2)]
    # 5 rounds at home on each antenna, and cross-reads from next door in the other 5
    assert all(5 <= n <= 10 for n in frame.n) and sum(frame.n) > 10


def test_no_stays_draws_the_same_frames_as_before_stays_existed() -> None:
    plain = _frames(_reader(), 5)
    reader = _reader()
    with_empty = [reader.frame(k * 1000, (k + 1) * 1000, TAGS, []) for k in range(5)]
    assert plain == with_empty
