-- Per-minute continuous aggregates, refreshed every minute, real-time for the newest bucket.
create materialized view rfid_reads_1m with (timescaledb.continuous, timescaledb.materialized_only = false) as
select time_bucket('1 minute', ts) as bucket,
       site_id, device_id, count(*)::bigint as reads, sum(n)::bigint as seen
from rfid_reads
group by 1, 2, 3
with no data;
select add_continuous_aggregate_policy('rfid_reads_1m',
    start_offset => interval '1 day', end_offset => interval '1 minute',
    schedule_interval => interval '1 minute');

create materialized view sensor_readings_1m with (timescaledb.continuous, timescaledb.materialized_only = false) as
select time_bucket('1 minute', ts) as bucket,
       site_id, device_id, location_id,
       avg(temp_c) as temp_c, min(temp_c) as temp_min_c, max(temp_c) as temp_max_c, avg(rh) as rh
from sensor_readings
group by 1, 2, 3, 4
with no data;
select add_continuous_aggregate_policy('sensor_readings_1m',
    start_offset => interval '7 days', end_offset => interval '1 minute',
    schedule_interval => interval '1 minute');
