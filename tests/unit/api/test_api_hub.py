"""The live hub's pure parts: notice parsing, per-client overflow, stock and alert diffs."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from fastapi import HTTPException

from api.config import ApiConfig, ApiConfigError
from api.deps import parse_instant
from api.hub import (
    RESYNC,
    LiveEvent,
    Notice,
    Subscription,
    _changed_stock,
    _SiteCache,
    parse_notice,
)
from api.models import StockRow
from shelfsense.domain import StockState

T = datetime(2025, 11, 21, 10, 0, tzinfo=UTC)


def test_parse_notice() -> None:
    payload = '{"site":"s","ledger_id":7,"movements":[1,2],"stock_changed":true,"alerts":false}'
    assert parse_notice(payload) == Notice("s", 7, (1, 2), stock_changed=True, alerts=False)
    assert parse_notice('{"site":"s","ledger_id":8}') == Notice("s", 8)
    for bad in ("not json", "[]", '{"site":"s"}', '{"site":"s","ledger_id":1,"movements":["x"]}'):
        assert parse_notice(bad) is None


def test_a_full_queue_is_replaced_by_resync_and_closed() -> None:
    sub = Subscription("s", asyncio.Queue(2))
    events = [LiveEvent("movement", "[]", str(i)) for i in range(3)]
    sub.offer(events[:1])
    assert not sub.closed
    sub.offer(events[1:])
    assert sub.closed
    assert sub.queue.get_nowait() is RESYNC
    assert sub.queue.empty()
    sub.offer(events[:1])  # closed: ignored
    assert sub.queue.empty()


def _row(sku: str, qty: int, state: StockState = StockState.OK) -> StockRow:
    return StockRow(sku=sku, location="l", qty=qty, state=state, updated_at=T)


def test_stock_diff_sends_only_changed_cells() -> None:
    cache = _SiteCache({("a", "l"): _row("a", 1), ("b", "l"): _row("b", 2)})
    changed = _changed_stock(cache, [_row("a", 1), _row("b", 0, StockState.OUT), _row("c", 3)])
    assert [(r.sku, r.qty) for r in changed] == [("b", 0), ("c", 3)]
    assert _changed_stock(cache, [_row("a", 1), _row("b", 0, StockState.OUT), _row("c", 3)]) == []


def test_parse_instant() -> None:
    assert parse_instant("at", "2025-11-21T13:00:00+03:00") == T
    assert parse_instant("at", "2025-11-21T10:00:00Z") == T
    assert parse_instant("at", "2025-11-21T10:00:00") == T  # no offset: UTC
    assert parse_instant("at", None) is None
    with pytest.raises(HTTPException, match="at: 'soon' is not an ISO 8601 timestamp"):
        parse_instant("at", "soon")


def test_config_rejects_nonsense() -> None:
    with pytest.raises(ApiConfigError, match="heartbeat_s"):
        ApiConfig(heartbeat_s=0)
    with pytest.raises(ApiConfigError, match="movements_limit_default"):
        ApiConfig(movements_limit_default=20, movements_limit_max=10)
