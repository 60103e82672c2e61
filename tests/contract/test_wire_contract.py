"""Contract v1 conformance: the contract's own examples, its rules, and the published schemas."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from shelfsense.schemas import all_schemas, render
from shelfsense.wire import (
    GatewayStatus,
    Message,
    Rejected,
    RfidBatch,
    SensorBatch,
    StreamKind,
    Topic,
    WeightBatch,
    decode,
    encode,
    offline_will,
)

ROOT = Path(__file__).resolve().parents[2]
RFID = {
    "v": 1,
    "seq": 1042,
    "t0": 1763719200000,
    "t1": 1763719201000,
    "ants": [1, 2, 3, 4],
    "reads": [
        {"epc": "3034257BF7194E4000001A85", "ant": 2, "rssi": -52.5, "ts": 1763719200123, "n": 3}
    ],
}
WEIGHT = {
    "v": 1,
    "seq": 77,
    "t0": 1763719200000,
    "t1": 1763719201000,
    "hz": 10,
    "g": [2503.1, 2503.4, 2502.9, 2503.0, 2503.2, 2503.1, 2503.3, 2503.0, 2502.8, 2503.1],
}
SENSOR = {
    "v": 1,
    "seq": 9,
    "t0": 1763719200000,
    "t1": 1763719260000,
    "readings": [{"ts": 1763719230000, "temp_c": 4.1, "rh": 62.0, "batt_v": 2.97}],
}
STATUS = {"v": 1, "state": "online", "ts": 1763719200000, "sw": "0.1.0", "backlog": 0}
BASE = "shelf/v1/demo-store/gw-1"


def _ok(topic: str, body: dict[str, object]) -> Message:
    result = decode(topic, json.dumps(body).encode())
    assert isinstance(result, Message), result
    return result


def test_contract_examples_decode() -> None:
    assert isinstance(_ok(f"{BASE}/rfid/reader-1", RFID).payload, RfidBatch)
    assert isinstance(_ok(f"{BASE}/weight/scale-1", WEIGHT).payload, WeightBatch)
    assert isinstance(_ok(f"{BASE}/env/probe-1", SENSOR).payload, SensorBatch)
    status = _ok(f"{BASE}/status", STATUS)
    assert isinstance(status.payload, GatewayStatus)
    assert status.topic == Topic("demo-store", "gw-1", StreamKind.STATUS)  # type: ignore[arg-type]
    assert json.loads(offline_will()) == {"v": 1, "state": "offline"}


def test_columnar_form_is_the_same_batch() -> None:
    cols = {
        **RFID,
        "reads": None,
        "cols": {
            "epc": ["3034257BF7194E4000001A85"],
            "ant": [2],
            "rssi": [-52.5],
            "ts": [1763719200123],
            "n": [3],
        },
    }
    del cols["reads"]
    a = _ok(f"{BASE}/rfid/reader-1", RFID).payload
    b = _ok(f"{BASE}/rfid/reader-1", cols).payload
    assert isinstance(a, RfidBatch) and isinstance(b, RfidBatch)
    assert a.columns() == b.columns()


def test_unknown_fields_are_ignored_and_encode_round_trips() -> None:
    msg = _ok(f"{BASE}/rfid/reader-1", {**RFID, "vendor": {"x": 1}})
    again = decode(f"{BASE}/rfid/reader-1", encode(msg.payload))
    assert isinstance(again, Message) and again.payload == msg.payload


@pytest.mark.parametrize(
    ("topic", "body", "reason"),
    [
        (f"{BASE}/rfid/reader-1", {**RFID, "seq": -1}, "seq"),
        (f"{BASE}/rfid/reader-1", {**RFID, "t1": RFID["t0"]}, "t1"),
        (
            f"{BASE}/rfid/reader-1",
            {**RFID, "reads": [{**RFID["reads"][0], "ts": 1}]},  # type: ignore[index]
            "[t0, t1)",
        ),
        (
            f"{BASE}/rfid/reader-1",
            {**RFID, "reads": [{**RFID["reads"][0], "ant": 9}]},  # type: ignore[index]
            "not in ants",
        ),
        (
            f"{BASE}/rfid/reader-1",
            {**RFID, "reads": [{**RFID["reads"][0], "epc": "12AB"}]},  # type: ignore[index]
            "epc",
        ),
        (
            f"{BASE}/rfid/reader-1",
            {**RFID, "cols": {"epc": [], "ant": [], "ts": []}},
            "exactly one",
        ),
        (f"{BASE}/weight/scale-1", {**WEIGHT, "g": [1.0]}, "samples"),
        (f"{BASE}/env/probe-1", {**SENSOR, "readings": [{"ts": 1, "temp_c": 1.0}]}, "[t0, t1)"),
        (f"{BASE}/status", {"v": 1, "state": "sleeping"}, "state"),
        (f"{BASE}/rfid/reader-1", {**RFID, "v": 2}, "v"),
        (f"{BASE}/rfid/Reader-1", RFID, "device id"),
        ("shelf/v2/demo-store/gw-1/rfid/reader-1", RFID, "does not start"),
        (f"{BASE}/scan/reader-1", RFID, "rfid|weight|env"),
    ],
)
def test_contract_violations_are_rejected_with_a_reason(
    topic: str, body: dict[str, object], reason: str
) -> None:
    result = decode(topic, json.dumps(body).encode())
    assert isinstance(result, Rejected)
    assert reason in result.reason


def test_strings_are_not_numbers() -> None:
    result = decode(f"{BASE}/rfid/reader-1", json.dumps({**RFID, "t0": "1763719200000"}).encode())
    assert isinstance(result, Rejected) and "t0" in result.reason


def test_oversize_payload_is_rejected_before_parsing() -> None:
    result = decode(f"{BASE}/rfid/reader-1", b"{" + b" " * (256 * 1024) + b"}")
    assert isinstance(result, Rejected) and "limit" in result.reason


def test_published_schemas_are_current_and_accept_the_examples() -> None:
    schemas = all_schemas()
    for name, schema in schemas.items():
        path = ROOT / "docs" / "schemas" / f"{name}.schema.json"
        assert path.read_text() == render(schema), "regenerate: python -m shelfsense.schemas"
    for kind, body in (("rfid", RFID), ("weight", WEIGHT), ("env", SENSOR), ("status", STATUS)):
        jsonschema.validate(body, schemas[f"{kind}-payload"])
