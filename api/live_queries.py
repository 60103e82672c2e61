"""Read SQL behind the live stream (``/sites/{site}/live``): rows changed by one ingest commit.

``movements_after_ledger`` scans only the newest ``window`` movements by primary key, so resuming
a stream is cheap; it says when that window did not reach back far enough (the client must then
reload through the REST reads).
"""

from __future__ import annotations

from api.db import Connection
from api.models import AlertRow, MovementRow
from api.queries import ALERT_COLUMNS, MOVEMENT_COLUMNS, fetch


class LedgerMovement(MovementRow):
    ledger_id: int | None


async def movements_of(conn: Connection, site: str, ids: list[int]) -> list[MovementRow]:
    """The movements of the commit a notification announces.

    Its id list may be truncated (ingest sends the first ids only), so this takes every movement
    recorded in the same transaction as the smallest listed id: ``recorded_at`` defaults to
    ``now()``, which is one value per transaction. The scan starts at that id (primary key).
    """
    if not ids:
        return []
    return await fetch(
        conn,
        MovementRow,
        f"""select {MOVEMENT_COLUMNS} from movements
            where site_id = %(site)s and id >= %(first)s
              and recorded_at = (select recorded_at from movements where id = %(first)s)
            order by ts, id""",
        {"site": site, "first": min(ids)},
    )


async def movements_after_ledger(
    conn: Connection, site: str, after_ledger: int, window: int
) -> tuple[list[LedgerMovement], bool]:
    """(movements of ``site`` from ledger batches after ``after_ledger``, complete?).

    Incomplete when the window is full and its oldest row is still past ``after_ledger``.
    """
    rows = await fetch(
        conn,
        LedgerMovement,
        f"""with tail as (select * from movements order by id desc limit %(window)s)
            select {MOVEMENT_COLUMNS}, ledger_id from tail
            where site_id = %(site)s and ledger_id > %(after)s
            order by ledger_id, ts, id""",
        {"site": site, "after": after_ledger, "window": window},
    )
    cur = await conn.execute(
        """select count(*), min(ledger_id) from
           (select ledger_id from movements order by id desc limit %s) tail""",
        (window,),
    )
    found = await cur.fetchone()
    assert found is not None
    count, oldest = int(str(found[0])), found[1]
    complete = count < window or oldest is None or int(str(oldest)) <= after_ledger
    return rows, complete


async def alerts_live(conn: Connection, site: str, known_ids: list[int]) -> list[AlertRow]:
    """Open (not cleared) alerts, plus the alerts in ``known_ids`` whatever their status (so a
    watcher sees them being cleared)."""
    return await fetch(
        conn,
        AlertRow,
        f"""select {ALERT_COLUMNS} from alerts
            where site_id = %(site)s and (status <> 'cleared' or id = any(%(ids)s))
            order by opened_at, id""",
        {"site": site, "ids": known_ids},
    )
