"""The live hub: one LISTEN connection per API process fanned out to every SSE client.

Ingest runs ``NOTIFY shelfsense_events, '{"site", "ledger_id", "movements", "stock_changed",
"alerts"}'`` after each commit. The hub's listener task (started by the first subscriber) reads
those notices and, for a site that has subscribers, reads the changed rows once and hands the
same encoded events to each of that site's subscribers:

    movement   the commit's movements                    id: ledger id
    stock      the stock cells whose qty/state changed   id: ledger id
    alert      the alerts opened, updated or cleared     id: ledger id
    resync     events were lost (slow client, hub reconnected): reload through the REST reads

The stock and alert diffs come from per-site caches, seeded when a site gets its first
subscriber and dropped with its last; one lock serializes seeding and dispatch. A subscriber
whose queue fills up gets ``resync`` and is closed, never blocking the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from pydantic import TypeAdapter

from api import live_queries, queries
from api.config import ApiConfig
from api.db import Connection, ConnectionPool, DatabaseUnavailable, connect
from api.models import AlertRow, MovementRow, StockRow

log = logging.getLogger(__name__)

CHANNEL = "shelfsense_events"
RECONNECT_S = 1.0
_ROWS = TypeAdapter(list[MovementRow] | list[StockRow] | list[AlertRow])
Cell = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Notice:
    """One ingest commit, as announced on ``shelfsense_events``."""

    site: str
    ledger_id: int
    movement_ids: tuple[int, ...] = ()
    stock_changed: bool = False
    alerts: bool = False


def parse_notice(payload: str) -> Notice | None:
    """The notice in a NOTIFY payload; None when it is not one (logged, never raised)."""
    try:
        data = json.loads(payload)
        ids = tuple(int(i) for i in data.get("movements") or ())
        return Notice(
            str(data["site"]),
            int(data["ledger_id"]),
            ids,
            bool(data.get("stock_changed")),
            bool(data.get("alerts")),
        )
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        log.warning("ignoring a malformed %s payload %r: %s", CHANNEL, payload[:200], exc)
        return None


@dataclass(frozen=True, slots=True)
class LiveEvent:
    """One SSE event, its data already encoded as JSON."""

    event: str
    data_json: str
    id: str | None = None


RESYNC = LiveEvent("resync", '{"reason":"events were lost; reload through the REST reads"}')
CLOSE = LiveEvent("close", "")  # internal: the server is stopping, end the stream (not sent)


def encode(
    event: str, rows: Sequence[MovementRow | StockRow | AlertRow], ledger: int | None
) -> LiveEvent:
    data = _ROWS.dump_json(list(rows)).decode()  # type: ignore[arg-type]
    return LiveEvent(event, data, None if ledger is None else str(ledger))


@dataclass(eq=False)
class Subscription:
    site: str
    queue: asyncio.Queue[LiveEvent]
    closed: bool = False

    def offer(self, events: Sequence[LiveEvent]) -> None:
        """Queue ``events``; on overflow empty the queue, queue ``resync`` and close."""
        if self.closed:
            return
        try:
            for event in events:
                self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.close_with(RESYNC)

    def close_with(self, last: LiveEvent) -> None:
        """Drop what is queued; ``last`` is the final event."""
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(last)
        self.closed = True


@dataclass
class _SiteCache:
    stock: dict[Cell, StockRow] = field(default_factory=dict)
    alerts: dict[int, AlertRow] = field(default_factory=dict)


class LiveHub:
    def __init__(self, database_url: str, pool: ConnectionPool, config: ApiConfig) -> None:
        self._url = database_url
        self._pool = pool
        self._config = config
        self._subs: dict[str, set[Subscription]] = {}
        self._cache: dict[str, _SiteCache] = {}
        self._lock = asyncio.Lock()
        self._listening = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._loop = asyncio.get_running_loop()
        self.stopping = False

    async def subscribe(self, site: str) -> Subscription:
        """Register a subscriber; returns once the hub is listening (no later commit is missed)."""
        if self._task is None:
            self._task = asyncio.create_task(self._listen(), name="shelfsense-live-hub")
        sub = Subscription(site, asyncio.Queue(self._config.subscriber_queue_max))
        async with self._lock:
            if site not in self._cache:
                async with self._pool.connection() as conn:
                    self._cache[site] = await self._seed(conn, site)
            self._subs.setdefault(site, set()).add(sub)
        try:
            await asyncio.wait_for(self._listening.wait(), self._config.connect_timeout_s + 1)
        except TimeoutError as exc:
            self.unsubscribe(sub)
            raise DatabaseUnavailable("the live hub cannot listen for events") from exc
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        subs = self._subs.get(sub.site, set())
        subs.discard(sub)
        if not subs:
            self._subs.pop(sub.site, None)
            self._cache.pop(sub.site, None)

    def stop_streams_threadsafe(self) -> None:
        """End every stream soon (server shutdown); safe from a signal handler or thread."""
        self._loop.call_soon_threadsafe(self._stop_streams)

    def _stop_streams(self) -> None:
        self.stopping = True
        for subs in self._subs.values():
            for sub in subs:
                sub.close_with(CLOSE)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def resume(self, site: str, after_ledger: int) -> list[LiveEvent]:
        """What a client that saw ledger ``after_ledger`` missed: movements per ledger batch, then
        the whole current stock and open alerts (or just ``resync`` when that is not cheap)."""
        async with self._pool.connection() as conn:
            rows, complete = await live_queries.movements_after_ledger(
                conn, site, after_ledger, self._config.resume_window_rows
            )
            if not complete:
                return [RESYNC]
            stock = await queries.stock_now(conn, site)
            alerts = await live_queries.alerts_live(conn, site, [])
        events = [
            encode("movement", [r for r in rows if r.ledger_id == ledger], ledger)
            for ledger in sorted({r.ledger_id for r in rows if r.ledger_id is not None})
        ]
        return [*events, encode("stock", stock, None), encode("alert", alerts, None)]

    async def _seed(self, conn: Connection, site: str) -> _SiteCache:
        stock = await queries.stock_now(conn, site)
        alerts = await live_queries.alerts_live(conn, site, [])
        return _SiteCache({(r.sku, r.location): r for r in stock}, {a.id: a for a in alerts})

    async def _listen(self) -> None:
        while True:
            try:
                await self._listen_once()
            except Exception as exc:  # the hub outlives any database failure
                log.warning("live hub lost its database connection: %s", exc)
            self._listening.clear()
            for subs in self._subs.values():
                for sub in subs:
                    sub.offer([RESYNC])
            await asyncio.sleep(RECONNECT_S)

    async def _listen_once(self) -> None:
        conn = await connect(self._url, timeout_s=self._config.connect_timeout_s)
        async with conn:
            await conn.execute(f"LISTEN {CHANNEL}")
            self._listening.set()
            async for notify in conn.notifies():
                notice = parse_notice(notify.payload)
                if notice is not None and notice.site in self._subs:
                    await self._dispatch(notice)

    async def _dispatch(self, notice: Notice) -> None:
        async with self._lock, self._pool.connection() as conn:
            events = await self._events_for(conn, notice)
        for sub in list(self._subs.get(notice.site, ())):
            sub.offer(events)

    async def _events_for(self, conn: Connection, notice: Notice) -> list[LiveEvent]:
        cache = self._cache.get(notice.site)
        if cache is None:
            return []
        events: list[LiveEvent] = []
        if notice.movement_ids:
            moved = await live_queries.movements_of(conn, notice.site, list(notice.movement_ids))
            events.append(encode("movement", moved, notice.ledger_id))
        if notice.stock_changed:
            changed = _changed_stock(cache, await queries.stock_now(conn, notice.site))
            events.append(encode("stock", changed, notice.ledger_id))
        if notice.alerts:
            rows = await live_queries.alerts_live(conn, notice.site, list(cache.alerts))
            events.append(encode("alert", _changed_alerts(cache, rows), notice.ledger_id))
        return [e for e in events if e.data_json != "[]"]


def _changed_stock(cache: _SiteCache, rows: list[StockRow]) -> list[StockRow]:
    changed = [r for r in rows if cache.stock.get((r.sku, r.location)) != r]
    cache.stock = {(r.sku, r.location): r for r in rows}
    return changed


def _changed_alerts(cache: _SiteCache, rows: list[AlertRow]) -> list[AlertRow]:
    changed = [a for a in rows if cache.alerts.get(a.id) != a]
    cache.alerts = {a.id: a for a in rows if a.status != "cleared"}
    return changed
