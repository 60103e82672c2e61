"""Store-side dashboards: the store overview, one shelf in detail, the cold chain.

See `dashboards.panels` for the conventions every panel follows.
"""

from __future__ import annotations

from dashboards.panel_parts import (
    LOCATION,
    SEVERITY_COLORS,
    SITE,
    STATE_COLORS,
    count_stat,
)
from dashboards.spec import DashboardSpec, PanelKind, PanelSpec, cols

TS, TABLE = PanelKind.TIMESERIES, PanelKind.TABLE

STORE_OVERVIEW = DashboardSpec(
    key="store-overview",
    title="Shelfsense / Store overview",
    description="Stock state of every location, out-of-stock and low counts, open alerts.",
    variables=(SITE,),
    panels=(
        count_stat(
            "Out of stock",
            "out_of_stock",
            "select count(*) as out_of_stock from stock "
            "where site_id = ${site:sqlstring} and state = 'out'",
        ),
        count_stat(
            "Low stock",
            "low_stock",
            "select count(*) as low_stock from stock "
            "where site_id = ${site:sqlstring} and state = 'low'",
            warn="orange",
        ),
        count_stat(
            "Unknown stock",
            "unknown_stock",
            "select count(*) as unknown_stock from stock "
            "where site_id = ${site:sqlstring} and state = 'unknown'",
            warn="text",
        ),
        count_stat(
            "Active alerts",
            "active_alerts",
            "select count(*) as active_alerts from alerts "
            "where site_id = ${site:sqlstring} and status = 'active'",
        ),
        PanelSpec(
            "Stock by location",
            TABLE,
            """\
select l.location_id as location, l.name as location_name, l.kind,
       coalesce(s.sku, l.sku) as sku, p.name as product, s.qty, l.min_qty, l.capacity,
       coalesce(s.state, 'unknown') as state, s.updated_at
from locations l
left join stock s on s.site_id = l.site_id and s.location_id = l.location_id
left join products p on p.site_id = l.site_id and p.sku = coalesce(s.sku, l.sku)
where l.site_id = ${site:sqlstring} and l.active and l.kind in ('shelf', 'storage', 'cooler')
order by case coalesce(s.state, 'unknown') when 'out' then 0 when 'low' then 1
         when 'unknown' then 2 else 3 end, l.location_id, 4""",
            cols("location location_name kind sku product qty min_qty capacity state updated_at"),
            description="Every active shelf, storage and cooler location; worst state first.",
            width=14,
            height=12,
            color_column="state",
            colors=STATE_COLORS,
        ),
        PanelSpec(
            "Open alerts",
            TABLE,
            """\
select opened_at, severity, type, subject, location_id as location, sku,
       device_id as device, status, acked_at
from alerts
where site_id = ${site:sqlstring} and status <> 'cleared'
order by case severity when 'critical' then 0 when 'major' then 1 when 'warning' then 2
         else 3 end, opened_at desc""",
            cols("opened_at severity type subject location sku device status acked_at"),
            description="Active and acknowledged alerts, most severe first.",
            width=10,
            height=12,
            color_column="severity",
            colors=SEVERITY_COLORS,
        ),
        PanelSpec(
            "Units moved, by kind",
            TS,
            """\
select $__bucket(ts) as time, kind as metric, sum(qty)::bigint as units
from movements
where site_id = ${site:sqlstring} and $__timeFilter(ts)
group by 1, 2
order by 1""",
            cols("time metric units"),
            width=24,
        ),
    ),
)

SHELF_DETAIL = DashboardSpec(
    key="shelf-detail",
    title="Shelfsense / Shelf detail",
    description="One location: stock over time, movements in and out, the weight trace.",
    variables=(SITE, LOCATION),
    panels=(
        PanelSpec(
            "Stock over time",
            TS,
            """\
select $__timeFrom()::timestamptz as time, sku as metric, qty
from (select distinct on (sku) sku, qty from stock_history
      where site_id = ${site:sqlstring} and location_id = ${location:sqlstring}
        and ts < $__timeFrom()
      order by sku, ts desc) as before_range
union all
select $__bucket(ts), sku, (array_agg(qty order by ts desc))[1]
from stock_history
where site_id = ${site:sqlstring} and location_id = ${location:sqlstring}
  and $__timeFilter(ts)
group by 1, 2
order by 1""",
            cols("time metric qty"),
            description="Units per SKU: the level before the range, then the last per bucket.",
            width=16,
            steps=True,
        ),
        PanelSpec(
            "Current stock",
            TABLE,
            """\
select s.sku, p.name as product, s.qty, l.min_qty, l.capacity, s.state, s.updated_at
from stock s
left join locations l on l.site_id = s.site_id and l.location_id = s.location_id
left join products p on p.site_id = s.site_id and p.sku = s.sku
where s.site_id = ${site:sqlstring} and s.location_id = ${location:sqlstring}
order by s.sku""",
            cols("sku product qty min_qty capacity state updated_at"),
            width=8,
            color_column="state",
            colors=STATE_COLORS,
        ),
        PanelSpec(
            "Units in and out",
            TS,
            """\
select $__bucket(ts) as time,
       coalesce(sum(qty) filter (where to_location = ${location:sqlstring}), 0)::bigint
         as units_in,
       coalesce(sum(qty) filter (where from_location = ${location:sqlstring}), 0)::bigint
         as units_out
from movements
where site_id = ${site:sqlstring} and $__timeFilter(ts)
  and (to_location = ${location:sqlstring} or from_location = ${location:sqlstring})
group by 1
order by 1""",
            cols("time units_in units_out"),
        ),
        PanelSpec(
            "Weight trace",
            TS,
            """\
select $__bucket(w.t0 + make_interval(secs => (g.i - 1) / w.hz)) as time,
       w.device_id as metric, avg(g.grams - coalesce(d.tare_g, 0)) as net_grams
from weight_samples w
join devices d on d.site_id = w.site_id and d.device_id = w.device_id
cross join lateral unnest(w.grams) with ordinality as g(grams, i)
where w.site_id = ${site:sqlstring} and d.location_id = ${location:sqlstring}
  and $__timeFilter(w.t0)
group by 1, 2
order by 1""",
            cols("time metric net_grams"),
            unit="massg",
            description="Net grams on the shelf's scales (sample i of a batch is at t0 + i/hz).",
        ),
        PanelSpec(
            "Movements",
            TABLE,
            """\
select ts as time, kind, sku, epc, from_location, to_location, qty, source, confidence,
       device_id as device
from movements
where site_id = ${site:sqlstring} and $__timeFilter(ts)
  and (to_location = ${location:sqlstring} or from_location = ${location:sqlstring})
order by ts desc
limit 500""",
            cols("time kind sku epc from_location to_location qty source confidence device"),
            description="The newest 500 movements into or out of the location.",
            width=24,
            height=10,
        ),
    ),
)


_READINGS_IN_RANGE = """\
from sensor_readings r
join locations l on l.site_id = r.site_id and l.location_id = r.location_id
where r.site_id = ${site:sqlstring} and $__timeFilter(r.ts) and r.temp_c is not null
  and (l.temp_min_c is not null or l.temp_max_c is not null)"""
_OUT_OF_RANGE = "coalesce(r.temp_c < l.temp_min_c or r.temp_c > l.temp_max_c, false)"

COLD_CHAIN = DashboardSpec(
    key="cold-chain",
    title="Shelfsense / Cold chain",
    description="Temperatures of every location with an allowed range, and their excursions.",
    variables=(SITE,),
    panels=(
        PanelSpec(
            "Temperature",
            TS,
            """\
select $__bucket(r.bucket) as time, r.location_id as metric, avg(r.temp_c) as temp_c,
       min(l.temp_min_c) as allowed_min_c, max(l.temp_max_c) as allowed_max_c
from sensor_readings_1m r
join locations l on l.site_id = r.site_id and l.location_id = r.location_id
where r.site_id = ${site:sqlstring} and $__timeFilter(r.bucket)
  and (l.temp_min_c is not null or l.temp_max_c is not null)
group by 1, 2
order by 1""",
            cols("time metric temp_c allowed_min_c allowed_max_c"),
            unit="celsius",
            description="Per-location mean; dashed lines are the allowed range.",
            width=16,
            height=10,
            min_interval="1m",
            dashed="/allowed_(min|max)_c/",
        ),
        PanelSpec(
            "Latest reading",
            TABLE,
            f"""\
select distinct on (r.location_id) r.location_id as location, r.ts as reading_at, r.temp_c,
       l.temp_min_c as allowed_min_c, l.temp_max_c as allowed_max_c,
       case when {_OUT_OF_RANGE} then 'out' else 'ok' end as state, r.device_id as device,
       r.batt_v
{_READINGS_IN_RANGE}
order by r.location_id, r.ts desc""",
            cols("location reading_at temp_c allowed_min_c allowed_max_c state device batt_v"),
            width=8,
            height=10,
            color_column="state",
            colors=STATE_COLORS,
        ),
        PanelSpec(
            "Excursions",
            TABLE,
            f"""\
select location, min(ts) as started_at, max(ts) as last_out_at,
       extract(epoch from max(ts) - min(ts))::double precision as duration_s,
       min(temp_c) as min_temp_c, max(temp_c) as max_temp_c,
       max(excursion_after_s) as excursion_after_s,
       extract(epoch from max(ts) - min(ts)) >= coalesce(max(excursion_after_s), 0) as alarming
from (select r.location_id as location, r.ts, r.temp_c, l.excursion_after_s, {_OUT_OF_RANGE}
               as out_of_range,
             count(*) filter (where not {_OUT_OF_RANGE})
               over (partition by r.location_id order by r.ts) as run
      {_READINGS_IN_RANGE}) as readings
where out_of_range
group by location, run
order by started_at desc""",
            cols(
                "location started_at last_out_at duration_s min_temp_c max_temp_c "
                "excursion_after_s alarming"
            ),
            description="Runs of consecutive out-of-range readings; alarming once longer than "
            "the location's excursion_after_s.",
            width=16,
        ),
        PanelSpec(
            "Humidity",
            TS,
            """\
select $__bucket(r.bucket) as time, r.location_id as metric, avg(r.rh) as rh
from sensor_readings_1m r
where r.site_id = ${site:sqlstring} and $__timeFilter(r.bucket) and r.rh is not null
group by 1, 2
order by 1""",
            cols("time metric rh"),
            unit="humidity",
            width=8,
            min_interval="1m",
        ),
    ),
)
