"""A deterministic RFID scenario as contract batches: tags arrive, move, and leave.

Every tag is read in every batch while it is on a shelf (four rounds a second), so the
debouncer's answer is unambiguous; what is under test is the plumbing around it.
"""

from __future__ import annotations

from dataclasses import dataclass

from support.wire import T0_MS, epc, rfid

ANTENNA = {1: "floor/aisle-1/shelf-1", 2: "floor/aisle-1/shelf-2"}


@dataclass(frozen=True)
class TagPlan:
    serial: int
    on_1: tuple[int, int]  # seconds [from, to) on shelf 1
    on_2: tuple[int, int]  # then on shelf 2; (x, x) = never


def plans(count: int) -> list[TagPlan]:
    out = []
    for i in range(count):
        a = 2 + (i * 7) % 40
        b = a + 20 + (i * 11) % 30
        c = b + (0 if i % 3 == 0 else 15 + (i * 5) % 20)
        out.append(TagPlan(i + 1, (a, b), (b, c)))
    return out


def batches(prefix: str, seconds: int, tag_count: int = 40) -> list[tuple[str, bytes]]:
    topic = f"{prefix}/v1/test-store/gw-1/rfid/reader-1"
    tags = plans(tag_count)
    msgs = []
    for s in range(seconds):
        reads = []
        for t in tags:
            if t.on_1[0] <= s < t.on_1[1]:
                reads.append((epc(t.serial), 1))
            elif t.on_2[0] <= s < t.on_2[1]:
                reads.append((epc(t.serial), 2))
        msgs.append((topic, rfid(s, T0_MS + s * 1000, reads=reads)))
    return msgs
