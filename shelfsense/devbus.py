"""The device bus: how (simulated) devices hand their raw frames to a gateway driver.

A frame is one device's observation of an interval ``[t0, t1)`` of its own clock (event time),
in the same shape as the contract's batch of its kind, minus ``v`` and ``seq`` (the gateway
assigns those when it batches frames). Frames travel as JSON lines over TCP:

    {"device": "reader-1", "kind": "rfid", "t0": ..., "t1": ..., "ants": [...], "cols": {...}}
    {"device": "scale-1", "kind": "weight", "t0": ..., "t1": ..., "hz": 10, "g": [...]}
    {"device": "probe-1", "kind": "env", "t0": ..., "t1": ..., "readings": [...]}

A device that sends nothing for an interval was not observing it. Frames of one device arrive
in time order. Real drivers (LLRP, serial scales) produce the same ``Frame`` values.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from shelfsense.ids import DeviceId
from shelfsense.wire import Batch, StreamKind, model_for

BATCH_KINDS = (StreamKind.RFID, StreamKind.WEIGHT, StreamKind.ENV)


@dataclass(frozen=True, slots=True)
class Frame:
    device: DeviceId
    kind: StreamKind
    body: Batch  # validated with seq=0; the gateway's batcher replaces seq

    @property
    def t0(self) -> int:
        return self.body.t0

    @property
    def t1(self) -> int:
        return self.body.t1


class FrameError(ValueError):
    """A device-bus line that is not a valid frame."""


def encode_frame(device: str, kind: StreamKind, body: dict[str, Any]) -> bytes:
    """One JSON line (with the trailing newline)."""
    line = {"device": device, "kind": str(kind), **body}
    return json.dumps(line, separators=(",", ":")).encode() + b"\n"


def decode_frame(line: bytes | str) -> Frame:
    try:
        raw = json.loads(line)
    except json.JSONDecodeError as exc:
        raise FrameError(f"malformed frame: {exc}") from exc
    if not isinstance(raw, dict):
        raise FrameError("a frame is a JSON object")
    try:
        device = DeviceId(str(raw.pop("device", "")))
        kind = StreamKind(raw.pop("kind", ""))
    except ValueError as exc:
        raise FrameError(str(exc)) from exc
    if kind not in BATCH_KINDS:
        raise FrameError(f"frame kind must be one of rfid, weight, env; got {kind}")
    raw.update(v=1, seq=0)
    try:
        body = model_for(kind).model_validate(raw, strict=False)
    except ValidationError as exc:
        raise FrameError(f"invalid {kind} frame from {device}: {exc.errors()[0]['msg']}") from exc
    assert not isinstance(body, dict)
    return Frame(device, kind, body)  # type: ignore[arg-type]
