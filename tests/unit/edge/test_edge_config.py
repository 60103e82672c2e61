"""The gateway file: defaults, precedence, and errors that name the problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.config import EdgeConfig
from edge.errors import EdgeConfigError
from shelfsense.settings import Settings
from shelfsense.wire import StreamKind

GATEWAY_FILE = """
site: demo-store
gateway: gw-1
spool_path: spool/gw-1.sqlite
devices:
  - {id: reader-1, kind: rfid, address: "127.0.0.1:7100"}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "gateway.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_and_values_from_settings(tmp_path: Path) -> None:
    settings = Settings(mqtt_url="mqtt://broker:1884", mqtt_prefix="acme")
    config = EdgeConfig.from_file(write(tmp_path, GATEWAY_FILE), settings)
    assert config.client_id == "shelfsense-edge-demo-store-gw-1"
    assert (config.mqtt_url, config.mqtt_prefix) == ("mqtt://broker:1884", "acme")
    assert config.spool_path == tmp_path / "spool/gw-1.sqlite"
    assert (config.batch_ms.rfid, config.batch_ms.weight, config.batch_ms.env) == (
        500,
        1000,
        60000,
    )
    assert (config.max_inflight, config.status_interval_s) == (1000, 30.0)
    assert str(config.topic(StreamKind.RFID, "reader-1")) == "acme/v1/demo-store/gw-1/rfid/reader-1"
    assert config.devices[0].host_port == ("127.0.0.1", 7100)


def test_the_flag_beats_the_file_which_beats_the_environment(tmp_path: Path) -> None:
    path = write(tmp_path, GATEWAY_FILE + "mqtt_url: mqtt://file:1\n")
    settings = Settings(mqtt_url="mqtt://env:1")
    assert EdgeConfig.from_file(path, settings).mqtt_url == "mqtt://file:1"
    assert (
        EdgeConfig.from_file(path, settings, mqtt_url="mqtt://flag:1").mqtt_url == "mqtt://flag:1"
    )


def test_spool_path_defaults_into_the_data_dir(tmp_path: Path) -> None:
    text = GATEWAY_FILE.replace("spool_path: spool/gw-1.sqlite\n", "")
    settings = Settings(mqtt_url="mqtt://b:1", data_dir=tmp_path / "data")
    config = EdgeConfig.from_file(write(tmp_path, text), settings)
    assert config.spool_path == tmp_path / "data/edge-demo-store-gw-1.spool.sqlite"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("max_inflight: 65535\n", "max_inflight"),
        ("colour: blue\n", "colour: Extra inputs are not permitted"),
        ("mqtt_prefix: 'a/#'\n", "mqtt_prefix"),
        ("batch_ms: {rfid: 0}\n", "batch_ms.rfid"),
        ("devices: [{id: x, kind: rfid, address: nowhere}]\n", "host:port"),
        (
            "devices: [{id: x, kind: rfid, address: 'h:1'}, {id: x, kind: env, address: 'h:1'}]\n",
            "repeated: x",
        ),
    ],
)
def test_bad_files_are_rejected_with_the_field_named(
    tmp_path: Path, change: str, message: str
) -> None:
    path = write(tmp_path, GATEWAY_FILE + change)
    with pytest.raises(EdgeConfigError, match=message):
        EdgeConfig.from_file(path, Settings(mqtt_url="mqtt://b:1"))


def test_no_broker_anywhere_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(EdgeConfigError, match="no broker"):
        EdgeConfig.from_file(write(tmp_path, GATEWAY_FILE), Settings())


def test_unreadable_and_non_yaml_files(tmp_path: Path) -> None:
    with pytest.raises(EdgeConfigError, match="cannot read"):
        EdgeConfig.from_file(tmp_path / "missing.yaml", Settings())
    with pytest.raises(EdgeConfigError, match="mapping"):
        EdgeConfig.from_file(write(tmp_path, "- just\n- a list\n"), Settings())
