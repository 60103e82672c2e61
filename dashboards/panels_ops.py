"""Operations dashboards: the devices and the ingest pipeline itself.

See `dashboards.panels` for the conventions every panel follows.
"""

from __future__ import annotations

from dashboards.panel_parts import DEVICE, GREEN, SITE, count_stat
from dashboards.spec import DashboardSpec, PanelKind, PanelSpec, Step, cols

TS, STAT, TABLE = PanelKind.TIMESERIES, PanelKind.STAT, PanelKind.TABLE

DEVICES = DashboardSpec(
    key="devices",
    title="Shelfsense / Devices",
    description="Batches per minute, last seen, gaps in each device's batch stream, dead letters.",
    variables=(SITE, DEVICE),
    panels=(
        count_stat(
            "Silent devices (5 min)",
            "silent_devices",
            "select count(*) as silent_devices from devices "
            "where site_id = ${site:sqlstring} and active and device_id in (${device:sqlstring}) "
            "and (last_seen_at is null or last_seen_at < now() - interval '5 minutes')",
        ),
        count_stat(
            "Gateways offline",
            "offline_gateways",
            "select count(*) as offline_gateways from gateways "
            "where site_id = ${site:sqlstring} and state <> 'online'",
        ),
        count_stat(
            "Batch gaps",
            "gaps",
            """\
select count(*) as gaps
from (select t0, lag(t1) over w as prev_t1, seq - lag(seq) over w as seq_step
      from batch_ledger
      where site_id = ${site:sqlstring} and device_id in (${device:sqlstring})
        and seq is not null and $__timeFilter(t0)
      window w as (partition by gateway_id, device_id order by seq)) as b
where t0 > prev_t1 or seq_step > 1""",
            warn="orange",
        ),
        count_stat(
            "Dead letters",
            "dead_letters",
            "select count(*) as dead_letters from dead_letters "
            "where (site_id = ${site:sqlstring} or site_id is null) and $__timeFilter(received_at)",
            warn="orange",
        ),
        PanelSpec(
            "Batches per minute",
            TS,
            """\
select $__bucket(received_at) as time, device_id as metric,
       (count(*) * 60000.0 / $__interval_ms)::double precision as batches_per_min
from batch_ledger
where site_id = ${site:sqlstring} and device_id in (${device:sqlstring})
  and seq is not null and $__timeFilter(received_at)
group by 1, 2
order by 1""",
            cols("time metric batches_per_min"),
            description="Accepted data batches per device, by arrival time.",
        ),
        PanelSpec(
            "Devices",
            TABLE,
            """\
select d.device_id as device, d.kind, d.gateway_id as gateway, g.state as gateway_state,
       d.location_id as location, d.last_seen_at, d.last_t1,
       extract(epoch from now() - d.last_seen_at)::double precision as silent_s
from devices d
left join gateways g on g.site_id = d.site_id and g.gateway_id = d.gateway_id
where d.site_id = ${site:sqlstring} and d.active and d.device_id in (${device:sqlstring})
order by d.last_seen_at nulls first, d.device_id""",
            cols("device kind gateway gateway_state location last_seen_at last_t1 silent_s"),
            description="Last batch arrival per device; longest silent first.",
        ),
        PanelSpec(
            "Gaps",
            TABLE,
            """\
select device, gateway, gap_from, gap_to,
       extract(epoch from gap_to - gap_from)::double precision as gap_s, missing_batches
from (select device_id as device, gateway_id as gateway, lag(t1) over w as gap_from,
             t0 as gap_to, seq - lag(seq) over w - 1 as missing_batches
      from batch_ledger
      where site_id = ${site:sqlstring} and device_id in (${device:sqlstring})
        and seq is not null and $__timeFilter(t0)
      window w as (partition by gateway_id, device_id order by seq)) as b
where gap_to > gap_from or missing_batches > 0
order by gap_from desc
limit 200""",
            cols("device gateway gap_from gap_to gap_s missing_batches"),
            description="Holes between consecutive batches: event time not tiled or seq skipped.",
        ),
        PanelSpec(
            "Gateways",
            TABLE,
            """\
select gateway_id as gateway, state, sw, backlog, status_at, last_seen_at
from gateways
where site_id = ${site:sqlstring}
order by gateway_id""",
            cols("gateway state sw backlog status_at last_seen_at"),
        ),
        PanelSpec(
            "Dead letters by reason",
            TS,
            """\
select $__bucket(received_at) as time, reason as metric, count(*) as letters
from dead_letters
where (site_id = ${site:sqlstring} or site_id is null) and $__timeFilter(received_at)
group by 1, 2
order by 1""",
            cols("time metric letters"),
            description="Rejected messages; those whose topic named no site are counted too.",
        ),
        PanelSpec(
            "Latest dead letters",
            TABLE,
            """\
select received_at, topic, gateway_id as gateway, device_id as device, reason, size_bytes
from dead_letters
where (site_id = ${site:sqlstring} or site_id is null) and $__timeFilter(received_at)
order by received_at desc
limit 100""",
            cols("received_at topic gateway device reason size_bytes"),
            width=24,
        ),
    ),
)


_DATA_BATCHES = "site_id = ${site:sqlstring} and seq is not null and $__timeFilter(received_at)"
_LAG_S = "extract(epoch from received_at - t1)::double precision"

PIPELINE = DashboardSpec(
    key="pipeline",
    title="Shelfsense / Pipeline",
    description="The ingest pipeline itself: batches and items per second, ingest lag.",
    variables=(SITE,),
    panels=(
        PanelSpec(
            "Ingest lag p95",
            STAT,
            f"select percentile_cont(0.95) within group (order by {_LAG_S}) as lag_p95_s "
            f"from batch_ledger where {_DATA_BATCHES}",
            cols("lag_p95_s"),
            unit="s",
            thresholds=(GREEN, Step("orange", 5), Step("red", 30)),
            width=6,
            height=4,
        ),
        PanelSpec(
            "Batches ingested",
            STAT,
            f"select count(*) as batches from batch_ledger where {_DATA_BATCHES}",
            cols("batches"),
            width=6,
            height=4,
        ),
        PanelSpec(
            "Items ingested",
            STAT,
            "select coalesce(sum(items), 0)::bigint as items "
            f"from batch_ledger where {_DATA_BATCHES}",
            cols("items"),
            width=6,
            height=4,
        ),
        PanelSpec(
            "Gateway backlog",
            STAT,
            "select coalesce(sum(backlog), 0)::bigint as backlog from gateways "
            "where site_id = ${site:sqlstring}",
            cols("backlog"),
            description="Batches spooled on the gateways, not yet acknowledged (last status).",
            thresholds=(GREEN, Step("orange", 100), Step("red", 1000)),
            width=6,
            height=4,
        ),
        PanelSpec(
            "Batches per second, by kind",
            TS,
            """\
select $__bucket(received_at) as time, kind as metric,
       (count(*) * 1000.0 / $__interval_ms)::double precision as batches_per_s
from batch_ledger
where site_id = ${site:sqlstring} and $__timeFilter(received_at)
group by 1, 2
order by 1""",
            cols("time metric batches_per_s"),
            unit="ops",
        ),
        PanelSpec(
            "Items per second, by kind",
            TS,
            f"""\
select $__bucket(received_at) as time, kind as metric,
       (sum(items) * 1000.0 / $__interval_ms)::double precision as items_per_s
from batch_ledger
where {_DATA_BATCHES}
group by 1, 2
order by 1""",
            cols("time metric items_per_s"),
            unit="ops",
        ),
        PanelSpec(
            "Ingest lag",
            TS,
            f"""\
select $__bucket(received_at) as time, avg({_LAG_S}) as lag_avg_s,
       percentile_cont(0.95) within group (order by {_LAG_S}) as lag_p95_s,
       max({_LAG_S}) as lag_max_s
from batch_ledger
where {_DATA_BATCHES}
group by 1
order by 1""",
            cols("time lag_avg_s lag_p95_s lag_max_s"),
            unit="s",
            description="Arrival time minus the batch's end (received_at - t1).",
        ),
        PanelSpec(
            "Movement latency",
            TS,
            """\
select $__bucket(recorded_at) as time, source as metric,
       percentile_cont(0.95) within group
         (order by extract(epoch from recorded_at - ts)::double precision) as latency_p95_s
from movements
where site_id = ${site:sqlstring} and $__timeFilter(recorded_at)
group by 1, 2
order by 1""",
            cols("time metric latency_p95_s"),
            unit="s",
            description="From the event in the store to the movement written, p95 per source.",
        ),
        PanelSpec(
            "RFID reads per second",
            TS,
            """\
select $__bucket(bucket) as time, device_id as metric,
       (sum(reads) * 1000.0 / $__interval_ms)::double precision as reads_per_s
from rfid_reads_1m
where site_id = ${site:sqlstring} and $__timeFilter(bucket)
group by 1, 2
order by 1""",
            cols("time metric reads_per_s"),
            unit="ops",
            min_interval="1m",
        ),
        PanelSpec(
            "Sensor readings per minute",
            TS,
            """\
select $__bucket(ts) as time, device_id as metric,
       (count(*) * 60000.0 / $__interval_ms)::double precision as readings_per_min
from sensor_readings
where site_id = ${site:sqlstring} and $__timeFilter(ts)
group by 1, 2
order by 1""",
            cols("time metric readings_per_min"),
        ),
    ),
)
