"""A small store seeded straight into the database, and the API running against it.

Rows are written with SQL, the way ingest writes them, at fixed event times around ``T0``:

    world = seed_world(database_url)          # site test-store + stock, history, movements, …
    with api_client(database_url) as client:  # httpx.Client on the app under uvicorn
        client.get(..., headers=auth(world.viewer))
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg
import uvicorn

from api import ApiConfig, create_app
from shelfsense.db.sites import apply_site
from shelfsense.domain import Role
from shelfsense.runtime.ports import free_port
from shelfsense.settings import Settings
from shelfsense.site import load_site
from shelfsense.tokens import create_token

SITE = "test-store"
SITE_FILE = Path(__file__).resolve().parent.parent / "fixtures" / "site_small.yaml"
T0 = datetime(2025, 11, 21, 10, 0, tzinfo=UTC)
SHELF1 = "floor/aisle-1/shelf-1"  # planogram TUNA-160, min_qty 2
SHELF2 = "floor/aisle-1/shelf-2"  # no planogram
SCALE_SHELF = "floor/aisle-2/shelf-1"  # planogram COLA-330
TEST_CONFIG = ApiConfig(heartbeat_s=0.5, pool_max_size=4, connect_timeout_s=3)


def iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat().replace("+00:00", "Z")


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass(frozen=True, slots=True)
class World:
    database_url: str
    admin: str
    operator: str
    viewer: str


def connect(url: str) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(url, autocommit=True)


def seed_world(url: str) -> World:
    with connect(url) as conn:
        apply_site(conn, load_site(SITE_FILE.read_text(), SITE_FILE.name))
        conn.execute("select shelfsense_ensure_partitions(%s, %s)", (T0 - timedelta(days=2), T0))
        _seed_stock(conn)
        _seed_movements(conn)
        _seed_alerts(conn)
        _seed_tags_and_devices(conn)
        return World(
            url,
            create_token(conn, role=Role.ADMIN, name="test admin"),
            create_token(conn, role=Role.OPERATOR, name="test operator"),
            create_token(conn, role=Role.VIEWER, name="test viewer"),
        )


def set_cell(
    conn: psycopg.Connection[tuple[object, ...]],
    sku: str,
    location: str,
    qty: int,
    state: str,
    ts: datetime,
) -> None:
    """What ingest does when a cell changes: upsert ``stock``, append ``stock_history``."""
    conn.execute(
        """insert into stock (site_id, sku, location_id, qty, state, updated_at)
           values (%s, %s, %s, %s, %s, %s) on conflict (site_id, sku, location_id)
           do update set qty = excluded.qty, state = excluded.state,
             updated_at = excluded.updated_at""",
        (SITE, sku, location, qty, state, ts),
    )
    conn.execute(
        """insert into stock_history (ts, site_id, sku, location_id, qty, state)
           values (%s, %s, %s, %s, %s, %s)""",
        (ts, SITE, sku, location, qty, state),
    )


def _seed_stock(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    # TUNA on shelf 1: 3 (ok) at T0-1h, 1 (low) at T0-30min, 0 (out) at T0-10min.
    set_cell(conn, "TUNA-160", SHELF1, 3, "ok", T0 - timedelta(hours=1))
    set_cell(conn, "TUNA-160", SHELF1, 1, "low", T0 - timedelta(minutes=30))
    set_cell(conn, "TUNA-160", SHELF1, 0, "out", T0 - timedelta(minutes=10))
    # TUNA strayed onto shelf 2: 2 (ok) since T0-20min.
    set_cell(conn, "TUNA-160", SHELF2, 2, "ok", T0 - timedelta(minutes=20))
    # COLA on the scale: 5 units, then the scale went silent -> unknown.
    set_cell(conn, "COLA-330", SCALE_SHELF, 5, "ok", T0 - timedelta(hours=2))
    set_cell(conn, "COLA-330", SCALE_SHELF, 5, "unknown", T0 - timedelta(minutes=5))


MOVEMENT_SQL = """insert into movements (site_id, ts, sku, epc, from_location, to_location, qty,
    kind, source, confidence, device_id, ledger_id)
values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) returning id"""


def add_movement(
    conn: psycopg.Connection[tuple[object, ...]],
    ts: datetime,
    *,
    sku: str = "TUNA-160",
    epc: str | None = "3034257BF7194E4000000001",
    src: str | None = None,
    dst: str | None = SHELF1,
    qty: int = 1,
    kind: str = "arrive",
    source: str = "rfid",
    ledger_id: int | None = None,
) -> int:
    row = conn.execute(
        MOVEMENT_SQL,
        (SITE, ts, sku, epc, src, dst, qty, kind, source, 0.9, "reader-1", ledger_id),
    ).fetchone()
    assert row is not None
    return int(str(row[0]))


def _seed_movements(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    # Inserted out of ts order on purpose: the API orders by ts, not by id.
    add_movement(conn, T0 - timedelta(minutes=10), src=SHELF1, dst=None, kind="depart", ledger_id=3)
    add_movement(conn, T0 - timedelta(hours=1), ledger_id=1)
    add_movement(
        conn,
        T0 - timedelta(minutes=30),
        sku="COLA-330",
        epc=None,
        src=SCALE_SHELF,
        dst=None,
        qty=2,
        kind="pick",
        source="weight",
        ledger_id=2,
    )
    add_movement(conn, T0 - timedelta(minutes=30), src=SHELF1, dst=SHELF2, kind="move", ledger_id=2)


def _seed_alerts(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    rows = [
        (
            "out_of_stock",
            f"location:{SHELF1}|sku:TUNA-160",
            "major",
            "active",
            SHELF1,
            "TUNA-160",
            T0 - timedelta(minutes=10),
            {"qty": 0},
        ),
        (
            "device_silent",
            "device:scale-1",
            "warning",
            "cleared",
            SCALE_SHELF,
            None,
            T0 - timedelta(hours=3),
            {"silent_s": 120},
        ),
        (
            "misplaced",
            f"location:{SHELF2}|sku:TUNA-160",
            "info",
            "acknowledged",
            SHELF2,
            "TUNA-160",
            T0 - timedelta(minutes=20),
            {},
        ),
    ]
    for type_, subject, severity, status, location, sku, opened_at, details in rows:
        conn.execute(
            """insert into alerts (site_id, type, subject, severity, status, location_id, sku,
                 opened_at, updated_at, details)
               values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
            (
                SITE,
                type_,
                subject,
                severity,
                status,
                location,
                sku,
                opened_at,
                opened_at,
                json.dumps(details),
            ),
        )


def _seed_tags_and_devices(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    tags = [
        ("3034257BF7194E4000000002", "TUNA-160", SHELF2),  # no planogram on shelf 2
        ("3034257BF7194E4000000003", "TUNA-160", SCALE_SHELF),  # COLA's shelf: misplaced
        ("3034257BF7194E4000000004", "TUNA-160", SHELF1),  # where it belongs
        ("E2801160600002084D5F1234", None, SHELF1),  # unknown tag: never "misplaced"
        ("3034257BF7194E4000000001", "TUNA-160", None),  # seen, then gone
    ]
    for epc, sku, location in tags:
        conn.execute(
            "insert into rfid_tags (site_id, epc, sku, location_id, since) values (%s,%s,%s,%s,%s)",
            (SITE, epc, sku, location, T0 - timedelta(minutes=15)),
        )
    conn.execute(
        "update devices set last_seen_at = %s, last_t1 = %s where site_id = %s and device_id = %s",
        (T0, T0 - timedelta(seconds=1), SITE, "reader-1"),
    )
    conn.execute(
        "update gateways set state = 'online', status_at = %s, backlog = 0 where site_id = %s",
        (T0, SITE),
    )
    conn.execute(
        """insert into dead_letters (topic, site_id, gateway_id, device_id, reason, size_bytes,
             payload) values (%s, %s, %s, %s, %s, %s, %s)""",
        (
            "shelf/v1/test-store/gw-1/rfid/reader-9",
            SITE,
            "gw-1",
            "reader-9",
            "unknown device",
            7,
            b"{bad\xff}",
        ),
    )


@contextmanager
def api_client(url: str) -> Iterator[httpx.Client]:
    """An httpx client on the app served by a real uvicorn (``served_api``).

    Not Starlette's TestClient: it warns (an error here) that it is moving to another package.
    """
    with served_api(url) as base, httpx.Client(base_url=base, timeout=10) as client:
        yield client


@contextmanager
def served_api(url: str) -> Iterator[str]:
    """The app under a real uvicorn in a thread on a free port; yields its base URL."""
    app = create_app(Settings(), database_url=url, config=TEST_CONFIG)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, log_config=None, timeout_graceful_shutdown=2
        )
    )
    thread = threading.Thread(target=server.run, name="api", daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_started(server, thread)
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        assert not thread.is_alive(), "uvicorn did not stop"


def _wait_started(server: uvicorn.Server, thread: threading.Thread) -> None:
    deadline = datetime.now(UTC) + timedelta(seconds=15)
    while not server.started:
        assert thread.is_alive(), "uvicorn exited during startup"
        assert datetime.now(UTC) < deadline, "uvicorn did not start in 15 s"
        threading.Event().wait(0.02)
    with httpx.Client() as client:
        client.get(f"http://127.0.0.1:{server.config.port}/api/v1/health").raise_for_status()


@dataclass
class Event:
    event: str | None = None
    data: str = ""
    id: str | None = None
    comments: list[str] = field(default_factory=list)

    def rows(self) -> list[dict[str, object]]:
        rows: list[dict[str, object]] = json.loads(self.data)
        return rows


def events(response: httpx.Response) -> Iterator[Event]:
    """Parse a text/event-stream into events (comment-only blocks included)."""
    current = Event()
    for line in response.iter_lines():
        if line == "":
            yield current
            current = Event()
        elif line.startswith(":"):
            current.comments.append(line[1:].strip())
        else:
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "data":
                current.data = f"{current.data}\n{value}" if current.data else value
            elif name in ("event", "id"):
                setattr(current, name, value)


def next_event(stream: Iterator[Event]) -> Event:
    """The next event with a name (skipping keepalive comments)."""
    for event in stream:
        if event.event is not None:
            return event
    raise AssertionError("the stream ended")
