-- Per-minute roll-ups. Native: plain views over the raw tables (same columns as Timescale's
-- continuous aggregates, so the same queries run on both).
create view rfid_reads_1m as
select date_bin('1 minute', ts, timestamptz '2000-01-01 00:00:00+00') as bucket,
       site_id, device_id, count(*)::bigint as reads, sum(n)::bigint as seen
from rfid_reads
group by 1, 2, 3;

create view sensor_readings_1m as
select date_bin('1 minute', ts, timestamptz '2000-01-01 00:00:00+00') as bucket,
       site_id, device_id, location_id,
       avg(temp_c) as temp_c, min(temp_c) as temp_min_c, max(temp_c) as temp_max_c, avg(rh) as rh
from sensor_readings
group by 1, 2, 3, 4;
