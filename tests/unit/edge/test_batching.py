"""The batcher, pure: frames of event time in, contract batches out."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from edge.batching import Batcher, Draft
from shelfsense.devbus import Frame, decode_frame, encode_frame
from shelfsense.ids import DeviceId
from shelfsense.wire import (
    MAX_PAYLOAD_BYTES,
    Message,
    RfidBatch,
    SensorBatch,
    StreamKind,
    WeightBatch,
    decode,
)

T = 1_763_719_200_000  # a whole second, and a whole minute
EPC_A = "3034257BF7194E4000001A85"
EPC_B = "3034257BF7194E4000001A86"
BATCH_MS = {StreamKind.RFID: 1000, StreamKind.WEIGHT: 1000, StreamKind.ENV: 60_000}


def rfid(t0: int, t1: int, reads: list[dict[str, Any]] | None = None, ants: Any = (1, 2)) -> Frame:
    body = {"t0": t0, "t1": t1, "ants": list(ants), "reads": reads or []}
    return decode_frame(encode_frame("reader-1", StreamKind.RFID, body))


def read(epc: str, ant: int, ts: int, rssi: float | None = None, n: int = 1) -> dict[str, Any]:
    found: dict[str, Any] = {"epc": epc, "ant": ant, "ts": ts, "n": n}
    if rssi is not None:
        found["rssi"] = rssi
    return found


def weight(t0: int, t1: int, hz: float = 10, grams: float = 2500.0) -> Frame:
    samples = round((t1 - t0) * hz / 1000)
    body = {"t0": t0, "t1": t1, "hz": hz, "g": [grams] * samples}
    return decode_frame(encode_frame("scale-1", StreamKind.WEIGHT, body))


def env(t0: int, t1: int, *stamps: int) -> Frame:
    body = {"t0": t0, "t1": t1, "readings": [{"ts": ts, "temp_c": 4.0} for ts in stamps]}
    return decode_frame(encode_frame("probe-1", StreamKind.ENV, body))


def feed(batcher: Batcher, *frames: Frame) -> list[Draft]:
    return [draft for frame in frames for draft in batcher.add(frame, now_ms=0)]


def on_wire(draft: Draft, seq: int = 7) -> Any:
    """The draft as ingest will see it: the payload decoded with the contract's own decoder."""
    topic = f"shelf/v1/site/gw/{draft.kind}/{draft.device}"
    message = decode(topic, draft.payload(seq))
    assert isinstance(message, Message), message
    return message.payload


def spans(drafts: list[Draft]) -> list[tuple[int, int]]:
    return [(d.body.t0, d.body.t1) for d in drafts]


def test_frames_that_fill_a_window_make_one_batch_with_the_seq_the_spool_gives() -> None:
    batcher = Batcher(BATCH_MS)
    drafts = feed(batcher, *(rfid(T + i * 250, T + (i + 1) * 250) for i in range(4)))
    assert spans(drafts) == [(T, T + 1000)]
    batch = on_wire(drafts[0], seq=1042)
    assert isinstance(batch, RfidBatch) and batch.seq == 1042


def test_batches_tile_time_on_the_grid() -> None:
    batcher = Batcher(BATCH_MS)
    frames = [rfid(T + 500 + i * 300, T + 500 + (i + 1) * 300) for i in range(10)]
    drafts = feed(batcher, *frames) + batcher.flush_all()
    assert spans(drafts) == [
        (T + 500, T + 1100),
        (T + 1100, T + 2000),
        (T + 2000, T + 3200),
        (T + 3200, T + 3500),
    ]


def test_empty_rfid_batches_are_emitted_as_evidence() -> None:
    batcher = Batcher(BATCH_MS)
    drafts = feed(batcher, rfid(T, T + 1000), rfid(T + 1000, T + 2000))
    assert len(drafts) == 2
    for draft in drafts:
        batch = on_wire(draft)
        assert batch.ants == [1, 2]
        assert len(batch.columns()) == 0


def test_reads_merge_per_epc_and_antenna() -> None:
    batcher = Batcher(BATCH_MS)
    drafts = feed(
        batcher,
        rfid(T, T + 500, [read(EPC_A, 1, T + 10, -60.0, n=2), read(EPC_A, 2, T + 20, -70.0)]),
        rfid(
            T + 500,
            T + 1000,
            [read(EPC_A.lower(), 1, T + 900, -55.5), read(EPC_B, 1, T + 600)],
            ants=(1, 3),
        ),
    )
    batch = on_wire(drafts[0])
    assert batch.cols is not None and batch.reads is None
    assert batch.ants == [1, 2, 3]
    c = batch.columns()
    rows = sorted(zip(c.epc, c.ant, c.rssi, c.ts, c.n, strict=True))
    assert rows == [
        (EPC_A, 1, -55.5, T + 900, 3),
        (EPC_A, 2, -70.0, T + 20, 1),
        (EPC_B, 1, None, T + 600, 1),
    ]


def test_a_gap_closes_the_batch_and_stays_a_gap() -> None:
    batcher = Batcher(BATCH_MS)
    drafts = feed(batcher, rfid(T, T + 300), rfid(T + 300, T + 600), rfid(T + 800, T + 1000))
    assert spans(drafts) == [(T, T + 600), (T + 800, T + 1000)]


def test_a_frame_overlapping_batched_time_is_dropped_and_counted() -> None:
    batcher = Batcher(BATCH_MS)
    drafts = feed(batcher, rfid(T, T + 1000), rfid(T + 500, T + 1500), rfid(T + 1000, T + 2000))
    assert spans(drafts) == [(T, T + 1000), (T + 1000, T + 2000)]
    assert batcher.dropped_frames == {"reader-1": 1}


def test_weight_frames_concatenate_and_a_change_of_hz_closes_the_batch() -> None:
    batcher = Batcher(BATCH_MS)
    drafts = feed(
        batcher,
        weight(T, T + 400, hz=10, grams=1.0),
        weight(T + 400, T + 600, hz=10, grams=2.0),
        weight(T + 600, T + 800, hz=20, grams=3.0),
        weight(T + 800, T + 1000, hz=20, grams=4.0),
    )
    assert spans(drafts) == [(T, T + 600), (T + 600, T + 1000)]
    first, second = (on_wire(d) for d in drafts)
    assert isinstance(first, WeightBatch) and first.hz == 10
    assert first.g == [1.0] * 4 + [2.0] * 2
    assert second.hz == 20 and second.g == [3.0] * 4 + [4.0] * 4


def test_weight_frames_whose_sample_count_would_not_add_up_are_not_joined() -> None:
    batcher = Batcher(BATCH_MS)  # 3 Hz: 200 ms hold round(0.6) = 1 sample, 400 ms round(1.2) = 1
    drafts = feed(batcher, weight(T, T + 200, hz=3), weight(T + 200, T + 400, hz=3))
    drafts += batcher.flush_all()
    assert spans(drafts) == [(T, T + 200), (T + 200, T + 400)]
    assert all(isinstance(on_wire(d), WeightBatch) for d in drafts)


def test_sensor_readings_concatenate_over_the_env_window() -> None:
    batcher = Batcher(BATCH_MS)
    drafts = feed(batcher, env(T, T + 30_000, T + 1), env(T + 30_000, T + 60_000, T + 30_001))
    batch = on_wire(drafts[0])
    assert isinstance(batch, SensorBatch)
    assert [r.ts for r in batch.readings] == [T + 1, T + 30_001]


def test_flush_closes_a_partial_batch_and_the_next_frame_starts_a_new_one() -> None:
    batcher = Batcher(BATCH_MS)
    assert feed(batcher, rfid(T, T + 300)) == []
    assert spans(batcher.flush(DeviceId("reader-1"))) == [(T, T + 300)]
    assert batcher.flush_all() == []
    assert spans(feed(batcher, rfid(T + 300, T + 1000))) == [(T + 300, T + 1000)]


def test_flush_idle_closes_batches_of_devices_silent_for_a_batch_length() -> None:
    batcher = Batcher(BATCH_MS)
    batcher.add(rfid(T, T + 300), now_ms=5_000)
    batcher.add(env(T, T + 1000, T), now_ms=5_000)
    assert batcher.flush_idle(now_ms=5_999) == []
    assert [d.device for d in batcher.flush_idle(now_ms=6_000)] == ["reader-1"]
    assert batcher.open_devices() == ["probe-1"]


def test_a_batch_over_the_payload_limit_splits_between_frames_first() -> None:
    batcher = Batcher(BATCH_MS, payload_limit_bytes=600)
    frames = [
        rfid(
            T + i * 250,
            T + (i + 1) * 250,
            [read(f"{EPC_A[:-4]}{i:02d}{j:02d}", 1, T + i * 250) for j in range(6)],
        )
        for i in range(4)
    ]
    drafts = feed(batcher, *frames)
    assert spans(drafts) == [(T + i * 250, T + (i + 1) * 250) for i in range(4)]
    assert all(len(d.payload(0)) <= 600 for d in drafts)


def test_a_single_frame_over_the_limit_splits_at_read_ts_and_still_tiles() -> None:
    reads = [read(f"{EPC_A[:-4]}{i:04d}", 1 + i % 2, T + i * 3) for i in range(300)]
    frame = rfid(T, T + 1000, reads)
    drafts = Batcher(BATCH_MS, payload_limit_bytes=4_000).add(frame, now_ms=0)
    assert len(drafts) > 1
    assert drafts[0].body.t0 == T and drafts[-1].body.t1 == T + 1000
    assert all(a.body.t1 == b.body.t0 for a, b in itertools.pairwise(drafts))
    batches = [on_wire(d) for d in drafts]
    assert all(len(d.payload(0)) <= 4_000 for d in drafts)
    assert sum(len(b.columns()) for b in batches) == 300
    assert all(b.ants == [1, 2] for b in batches)


def test_the_default_limit_is_the_contract_limit() -> None:
    reads = [read(f"{EPC_A[:-5]}{i:05d}", 1, T + i // 20, -50.0) for i in range(20_000)]
    drafts = Batcher(BATCH_MS).add(rfid(T, T + 1000, reads), now_ms=0)
    assert len(drafts) > 1
    assert all(len(d.payload(10**12)) <= MAX_PAYLOAD_BYTES for d in drafts)
    assert sum(len(on_wire(d).columns()) for d in drafts) == 20_000


@pytest.mark.parametrize("kind", [StreamKind.RFID, StreamKind.ENV])
def test_items_all_at_one_instant_cannot_split_and_go_out_whole(kind: StreamKind) -> None:
    if kind == StreamKind.RFID:
        frame = rfid(T, T + 1000, [read(f"{EPC_A[:-4]}{i:04d}", 1, T) for i in range(50)])
    else:
        frame = env(T, T + 60_000, *([T] * 50))
    drafts = Batcher(BATCH_MS, payload_limit_bytes=200).add(frame, now_ms=0)
    assert spans(drafts) == [(frame.t0, frame.t1)]
