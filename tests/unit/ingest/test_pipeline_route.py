"""Routing: what the wire models cannot know (site, device, gateway, kind) is checked here."""

from __future__ import annotations

import json

import pytest

from ingest.catalog import Antenna, DeviceInfo, SiteCatalog
from ingest.pipeline import Accepted, ledger_entry, route
from shelfsense.domain import DeviceKind
from shelfsense.wire import Rejected, decode

CATALOG = SiteCatalog(
    "s1", "v1",
    devices={
        "reader-1": DeviceInfo(
            "reader-1", "gw-1", DeviceKind.RFID, antennas=(Antenna(1, "a", None),)
        ),
        "scale-1": DeviceInfo("scale-1", "gw-1", DeviceKind.WEIGHT, "b", "COLA", 100.0),
    },
)  # fmt: skip
RFID = json.dumps({"v": 1, "seq": 3, "t0": 1000, "t1": 2000, "ants": [1], "reads": []}).encode()


def _route(topic: str, body: bytes = RFID) -> Accepted | Rejected:
    return route(decode(topic, body), {"s1": CATALOG})


def test_a_known_device_is_accepted_with_its_ledger_entry() -> None:
    routed = _route("shelf/v1/s1/gw-1/rfid/reader-1")
    assert isinstance(routed, Accepted)
    entry = ledger_entry(routed, arrival_ms=99)
    assert (entry.site_id, entry.gateway_id, entry.device_id, entry.seq) == (
        "s1",
        "gw-1",
        "reader-1",
        3,
    )
    assert (entry.t0_ms, entry.t1_ms, entry.ants, entry.items) == (1000, 2000, [1], 0)


@pytest.mark.parametrize(
    ("topic", "reason"),
    [
        ("shelf/v1/s2/gw-1/rfid/reader-1", "unknown site"),
        ("shelf/v1/s1/gw-1/rfid/reader-2", "unknown device"),
        ("shelf/v1/s1/gw-2/rfid/reader-1", "belongs to gateway 'gw-1'"),
        ("shelf/v1/s1/gw-1/rfid/scale-1", "is a weight device"),
    ],
)
def test_mismatches_are_rejected_with_a_reason(topic: str, reason: str) -> None:
    routed = _route(topic)
    assert isinstance(routed, Rejected)
    assert reason in routed.reason


def test_status_needs_no_device_and_uses_arrival_time_without_ts() -> None:
    routed = _route("shelf/v1/s1/gw-1/status", b'{"v":1,"state":"offline"}')
    assert isinstance(routed, Accepted) and routed.device is None
    entry = ledger_entry(routed, arrival_ms=1234)
    assert (entry.kind, entry.seq, entry.t0_ms) == ("status", None, 1234)
