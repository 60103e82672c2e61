"""``shelfsense lots receive``: the same all-or-nothing receipt as the API, from a shell."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.services import apply_site_file, scalar

from shelfsense.cli import main
from shelfsense.epc import encode_sgtin96

pytestmark = pytest.mark.integration
TUNA = "08690000000012"


def _receive(url: str, *args: str) -> int:
    return main(["lots", "receive", "--site", "test-store", "--database-url", url, *args])


def test_receive_by_label_and_epcs_file(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    apply_site_file(database_url)
    epcs = tmp_path / "epcs.txt"
    epcs.write_text("# delivery 7\n" + "\n".join(encode_sgtin96(TUNA, s) for s in range(1, 5)))
    code = _receive(database_url, "--gs1", f"(01){TUNA}(10)D7(17)301231", "--epcs-file", str(epcs))
    assert code == 0
    lot_id = int(capsys.readouterr().out.strip())
    assert scalar(database_url, "select count(*) from lot_items where lot_id = %s", lot_id) == 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--gs1", "(01)0869000000001(10)X"], "14 characters"),
        (
            [
                "--sku",
                "NOPE",
                "--lot",
                "X",
                "--expiry",
                "2030-01-01",
                "--qty",
                "1",
                "--location",
                "floor/aisle-2/shelf-1",
            ],
            "unknown product",
        ),
        (
            [
                "--sku",
                "TUNA-160",
                "--lot",
                "X",
                "--expiry",
                "2030-01-01",
                "--epc",
                encode_sgtin96("08690000000029", 1),
            ],
            "not SGTINs of TUNA-160",
        ),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(
    database_url: str, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    apply_site_file(database_url)
    assert _receive(database_url, *args) == 2
    assert message in capsys.readouterr().err
    assert scalar(database_url, "select count(*) from lots") == 0
