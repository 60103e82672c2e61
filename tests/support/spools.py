"""One spool contract, two spools: `open_spool` (a fixture in tests/conftest.py) runs a test
against MemorySpool and SqliteSpool; the factory it yields and the helpers live here."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from edge.spool import MemorySpool, Spool, SqliteSpool

OpenSpool = Callable[[], Spool]
SPOOL_FILE = "edge.spool.sqlite"


def spool_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OpenSpool]:
    """A factory: calling it again 'restarts' (SQLite: closes and reopens the same file)."""
    opened: list[Spool] = []
    memory = MemorySpool()

    def factory() -> Spool:
        if request.param == "memory":
            return memory
        for spool in opened:
            spool.close()
        opened.clear()
        opened.append(SqliteSpool(tmp_path / SPOOL_FILE))
        return opened[0]

    yield factory
    for spool in opened:
        spool.close()


def payload_with(seq: int) -> bytes:
    return b'{"seq":%d}' % seq
