"""Every dashboard panel's SQL runs against a real, seeded shelfsense database.

The queries are taken from the built dashboards (what Grafana would get), the Grafana macros and
variables are expanded here the way Grafana's PostgreSQL data source expands them, and the
result must have exactly the columns the panel description promises, and rows.

Both back-end variants run. The native variant (`date_bin`) runs for real on the migrated test
database. The timescale variant (`time_bucket`) runs for real only where the database itself is
on TimescaleDB; TimescaleDB cannot be installed on this machine, so here it runs over the native
tables with a `time_bucket(interval, timestamptz)` stand-in (a SQL function over `date_bin`),
which checks its syntax and columns but not the hypertables or continuous aggregates:
`test_timescale_variant_on_hypertables` is skipped with that reason.

The seeded store (site s1, one hour ending at T0) is small and hand-made so that some panels
have known answers; those are asserted too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from dashboards import build_dashboards
from dashboards.panels import DASHBOARDS
from dashboards.spec import PanelSpec
from shelfsense.db.migrate import Backend
from shelfsense.runtime import PostgresCluster

T0 = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
TIME_FROM, TIME_TO = T0 - timedelta(hours=1), T0
INTERVAL_MS = 60_000
VARIABLES = {
    "site": ["s1"],
    "location": ["floor/shelf-1"],
    "device": ["probe-1", "reader-1", "scale-1"],  # "All"
}
TIME_BUCKET_STAND_IN = """
create function time_bucket(bucket_width interval, ts timestamptz) returns timestamptz
language sql immutable as $$ select date_bin(bucket_width, ts, timestamptz '2000-01-03') $$
"""
# The alerts table comes with migration 006; this keeps the test independent of that order.
ALERTS_IF_MISSING = """
create table if not exists alerts (
    id bigserial primary key, site_id text not null, type text not null, subject text not null,
    severity text not null, status text not null default 'active', location_id text, sku text,
    device_id text, opened_at timestamptz not null, updated_at timestamptz not null,
    acked_at timestamptz, cleared_at timestamptz, details jsonb not null default '{}')
"""


def _grafana_time(ts: datetime) -> str:
    return "'" + ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") + "'"


def _sqlstring(values: Sequence[str]) -> str:
    return ",".join("'" + v.replace("'", "''") + "'" for v in values)


def _interval_ms(panel: PanelSpec) -> int:
    if panel.min_interval is None:
        return INTERVAL_MS
    match = re.fullmatch(r"(\d+)([smh])", panel.min_interval)
    assert match, panel.min_interval
    amount, unit = match.groups()
    return max(INTERVAL_MS, int(amount) * {"s": 1_000, "m": 60_000, "h": 3_600_000}[unit])


def expand_grafana(sql: str, *, interval_ms: int, variables: Mapping[str, Sequence[str]]) -> str:
    """What Grafana's PostgreSQL data source sends for `sql` over [TIME_FROM, TIME_TO]."""
    start, end = _grafana_time(TIME_FROM), _grafana_time(TIME_TO)
    sql = re.sub(r"\$__timeFilter\(([^()]*)\)", rf"\1 BETWEEN {start} AND {end}", sql)
    sql = sql.replace("$__timeFrom()", start).replace("$__timeTo()", end)
    sql = sql.replace("$__interval_ms", str(interval_ms))
    sql = re.sub(r"\$\{(\w+):sqlstring\}", lambda m: _sqlstring(variables[m.group(1)]), sql)
    assert "$__" not in sql and "${" not in sql, sql
    return sql


@dataclass(frozen=True)
class Seeded:
    url: str
    backend: Backend  # the database's own time-series back end


def _at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


SEED_CATALOG = """
insert into sites (site_id, name) values ('s1', 'Store one'), ('s2', 'Store two');
insert into products (site_id, sku, name, unit_weight_g) values
  ('s1', 'TUNA', 'Tuna 160 g', 185), ('s1', 'COLA', 'Cola 330 ml', 350);
insert into locations (site_id, location_id, kind, name, sku, min_qty, capacity,
                       temp_min_c, temp_max_c, excursion_after_s) values
  ('s1', 'floor/shelf-1', 'shelf', 'Shelf 1', 'TUNA', 2, 10, null, null, null),
  ('s1', 'floor/shelf-2', 'shelf', 'Shelf 2', 'COLA', 2, 10, null, null, null),
  ('s1', 'floor/cooler-1', 'cooler', 'Cooler 1', 'COLA', 1, 20, 0, 5, 300),
  ('s1', 'door-1', 'portal', 'Door', null, null, null, null, null, null),
  ('s2', 'other-shelf', 'shelf', null, null, null, null, null, null, null);
insert into gateways (site_id, gateway_id, state, sw, backlog, status_at, last_seen_at) values
  ('s1', 'gw-1', 'online', '1.2.0', 3, %(t0)s, %(t0)s),
  ('s1', 'gw-2', 'offline', '1.1.0', 40, %(t0)s, %(t0)s);
insert into devices (site_id, device_id, gateway_id, kind, location_id, sku, tare_g,
                     last_seen_at, last_t1) values
  ('s1', 'reader-1', 'gw-1', 'rfid', null, null, null, %(t0)s, %(t0)s),
  ('s1', 'scale-1', 'gw-1', 'weight', 'floor/shelf-1', 'TUNA', 1200, %(t0)s, %(t0)s),
  ('s1', 'probe-1', 'gw-1', 'env', 'floor/cooler-1', null, null, null, null);
insert into stock (site_id, sku, location_id, qty, state, updated_at) values
  ('s1', 'TUNA', 'floor/shelf-1', 1, 'low', %(t0)s),
  ('s1', 'COLA', 'floor/shelf-2', 0, 'out', %(t0)s),
  ('s1', 'COLA', 'floor/cooler-1', 12, 'ok', %(t0)s);
insert into alerts (site_id, type, subject, severity, status, location_id, sku, opened_at,
                    updated_at, acked_at, cleared_at) values
  ('s1', 'stock_low', 'location:floor/shelf-1|sku:TUNA', 'warning', 'active',
   'floor/shelf-1', 'TUNA', %(t0)s, %(t0)s, null, null),
  ('s1', 'out_of_stock', 'location:floor/shelf-2|sku:COLA', 'major', 'acknowledged',
   'floor/shelf-2', 'COLA', %(t0)s, %(t0)s, %(t0)s, null),
  ('s1', 'device_silent', 'device:probe-1', 'critical', 'cleared',
   null, null, %(t0)s, %(t0)s, null, %(t0)s);
insert into dead_letters (received_at, topic, site_id, gateway_id, device_id, reason,
                          size_bytes, payload) values
  (%(t0)s - interval '5 minutes', 'shelfsense/v1/s1/gw-1/reader-1/rfid', 's1', 'gw-1',
   'reader-1', 'schema', 120, '\\x7b7d'),
  (%(t0)s - interval '4 minutes', 'garbage', null, null, null, 'topic', 7, null);
"""


def _seed_series(conn: psycopg.Connection[object]) -> None:
    """Stock history, movements, ledger batches and telemetry inside [T0 - 1 h, T0]."""
    history = [(-120, 5), (-50, 3), (-10, 1)]  # before the range, then in it
    conn.cursor().executemany(
        "insert into stock_history values (%s, 's1', 'TUNA', 'floor/shelf-1', %s, %s)",
        [(_at(m), q, "ok" if q > 2 else "low") for m, q in history],
    )
    conn.cursor().executemany(
        """insert into movements (site_id, ts, sku, epc, from_location, to_location, qty, kind,
             source, device_id, recorded_at) values ('s1', %s, 'TUNA', %s, %s, %s, %s, %s, %s,
             %s, %s)""",
        [
            (_at(-50), "urn:epc:1", None, "floor/shelf-1", 2, "arrive", "rfid", "reader-1",
             _at(-49.9)),
            (_at(-10), None, "floor/shelf-1", None, 2, "pick", "weight", "scale-1", _at(-9.95)),
        ],
    )  # fmt: skip
    # reader-1: seq 1-3 tile [-40, -37) minutes, seq 5 starts after a 3-minute hole.
    ledger = [("reader-1", "rfid", s, -41 + s, -40 + s, 4) for s in (1, 2, 3)]
    ledger += [("reader-1", "rfid", 5, -34, -33, 2), ("scale-1", "weight", 1, -11, -10, 6)]
    ledger += [("probe-1", "env", 1, -31, -30, 1)]
    conn.cursor().executemany(
        """insert into batch_ledger (site_id, gateway_id, device_id, kind, seq, t0, t1, items,
             received_at) values ('s1', 'gw-1', %s, %s, %s, %s, %s, %s, %s)""",
        [
            (d, k, s, _at(a), _at(b), n, _at(b) + timedelta(seconds=1.5))
            for d, k, s, a, b, n in ledger
        ],
    )
    conn.execute(
        """insert into batch_ledger (site_id, gateway_id, device_id, kind, t0, t1, event,
             received_at) values ('s1', 'gw-1', '', 'status', %s, %s, '{"state": "online"}', %s)""",
        (_at(-45), _at(-45), _at(-45)),
    )
    conn.execute(
        """insert into weight_samples values (%s, %s, 's1', 'scale-1', 2,
             '{1570, 1570, 1200, 1200}')""",
        (_at(-11), _at(-10)),
    )
    conn.cursor().executemany(
        "insert into rfid_reads values (%s, 's1', 'reader-1', 1, %s, -55.5, 3)",
        [(_at(-39), "urn:epc:1"), (_at(-38.5), "urn:epc:2")],
    )
    # probe-1: 3.0 C every minute, 7.5 C from -20 to -14 (6 minutes: over the 300 s limit).
    conn.cursor().executemany(
        "insert into sensor_readings values (%s, 's1', 'probe-1', 'floor/cooler-1', %s, 55, 3.1)",
        [(_at(-m), 7.5 if 14 <= m <= 20 else 3.0) for m in range(30, -1, -1)],
    )


@pytest.fixture(scope="module")
def seeded(pg_cluster: PostgresCluster, migrated_template: str) -> Iterator[Seeded]:
    name = "dashboards_sql"
    url = pg_cluster.start().create_database(name, template=migrated_template)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(ALERTS_IF_MISSING)
        conn.execute("select shelfsense_ensure_partitions(%s, %s)", (_at(-180), _at(60)))
        with conn.transaction():
            for statement in filter(str.strip, SEED_CATALOG.split(";")):
                conn.execute(statement.encode(), {"t0": T0})
            _seed_series(conn)
        row = conn.execute("select shelfsense_timeseries_backend()").fetchone()
        backend = Backend(str(row[0])) if row else Backend.NATIVE
        if backend is Backend.NATIVE:
            conn.execute(TIME_BUCKET_STAND_IN)
    yield Seeded(url, backend)
    pg_cluster.start().drop_database(name)


def _panels() -> list[tuple[str, int, PanelSpec]]:
    return [(d.uid, i, p) for d in DASHBOARDS for i, p in enumerate(d.panels)]


def _built_sql(backend: Backend, uid: str, index: int) -> str:
    board = next(b for b in build_dashboards(backend) if b.uid == uid)
    panels = board.model["panels"]
    assert isinstance(panels, list)
    return str(panels[index]["targets"][0]["rawSql"])


def run_panel(
    url: str, backend: Backend, uid: str, index: int
) -> tuple[list[str], list[tuple[object, ...]]]:
    panel = next(d for d in DASHBOARDS if d.uid == uid).panels[index]
    sql = expand_grafana(
        _built_sql(backend, uid, index), interval_ms=_interval_ms(panel), variables=VARIABLES
    )
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cur.execute(sql.encode())
        assert cur.description is not None
        return [c.name for c in cur.description], cur.fetchall()


@pytest.mark.parametrize("backend", list(Backend))
@pytest.mark.parametrize(
    ("uid", "index", "panel"), _panels(), ids=[f"{u}:{p.title}" for u, _, p in _panels()]
)
def test_panel_sql_returns_its_columns(
    seeded: Seeded, backend: Backend, uid: str, index: int, panel: PanelSpec
) -> None:
    columns, rows = run_panel(seeded.url, backend, uid, index)
    assert tuple(columns) == panel.columns
    assert rows, f"{panel.title}: no rows for the seeded store"


KNOWN_ANSWERS = [
    ("store-overview", "Out of stock", [(1,)]),
    ("store-overview", "Low stock", [(1,)]),
    ("store-overview", "Unknown stock", [(0,)]),
    ("store-overview", "Active alerts", [(1,)]),
    ("shelf-detail", "Stock over time", [(_at(-60), "TUNA", 5), (_at(-50), "TUNA", 3),
                                         (_at(-10), "TUNA", 1)]),
    ("shelf-detail", "Units in and out", [(_at(-50), 2, 0), (_at(-10), 0, 2)]),
    ("shelf-detail", "Weight trace", [(_at(-11), "scale-1", 185.0)]),  # (370+370+0+0)/4 net
    ("devices", "Batch gaps", [(1,)]),
    ("devices", "Gateways offline", [(1,)]),
    ("devices", "Dead letters", [(2,)]),
    ("devices", "Gaps", [("reader-1", "gw-1", _at(-37), _at(-34), 180.0, 1)]),
    ("cold-chain", "Excursions", [("floor/cooler-1", _at(-20), _at(-14), 360.0, 7.5, 7.5,
                                   300, True)]),
    ("pipeline", "Ingest lag p95", [(1.5,)]),
    ("pipeline", "Batches ingested", [(6,)]),
    ("pipeline", "Items ingested", [(21,)]),
    ("pipeline", "Gateway backlog", [(43,)]),
]  # fmt: skip


@pytest.mark.parametrize("backend", list(Backend))
@pytest.mark.parametrize(("key", "title", "expected"), KNOWN_ANSWERS, ids=lambda v: str(v)[:30])
def test_panel_answers_for_the_seeded_store(
    seeded: Seeded, backend: Backend, key: str, title: str, expected: list[tuple[object, ...]]
) -> None:
    uid, index = next(
        (u, i) for u, i, p in _panels() if u == f"shelfsense-{key}" and p.title == title
    )
    _, rows = run_panel(seeded.url, backend, uid, index)
    assert rows == expected


def test_timescale_variant_on_hypertables(seeded: Seeded) -> None:
    if seeded.backend is not Backend.TIMESCALE:
        pytest.skip(
            "TimescaleDB is not installable on this machine (no timescaledb in "
            "pg_available_extensions): the timescale variant ran above over the native tables "
            "with a time_bucket stand-in, not over hypertables and continuous aggregates"
        )
    for uid, index, panel in _panels():
        columns, _ = run_panel(seeded.url, Backend.TIMESCALE, uid, index)
        assert tuple(columns) == panel.columns


def test_template_variables_list_the_seeded_store(seeded: Seeded) -> None:
    variables = {v.name: v.sql for d in DASHBOARDS for v in d.variables}
    found = {}
    with psycopg.connect(seeded.url) as conn:
        for name, sql in variables.items():
            expanded = expand_grafana(sql, interval_ms=INTERVAL_MS, variables=VARIABLES)
            found[name] = [row[0] for row in conn.execute(expanded.encode())]
    assert found == {
        "site": ["s1", "s2"],
        "location": ["floor/cooler-1", "floor/shelf-1", "floor/shelf-2"],
        "device": ["probe-1", "reader-1", "scale-1"],
    }
