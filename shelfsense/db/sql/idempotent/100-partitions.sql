-- Partition upkeep. Both back ends have these functions; on TimescaleDB they do nothing
-- (chunks are created and dropped by the extension's own policies).
create or replace function shelfsense_timeseries_backend() returns text
language sql stable as $$
    select value from shelfsense_meta where key = 'timeseries_backend'
$$;

create or replace function shelfsense_ensure_partition(parent text, day date) returns void
language plpgsql as $$
declare
    part text := parent || '_p' || to_char(day, 'YYYYMMDD');
    lo timestamptz := (day::timestamp) at time zone 'UTC';
    hi timestamptz := ((day + 1)::timestamp) at time zone 'UTC';
begin
    if shelfsense_timeseries_backend() = 'timescale' or to_regclass(part) is not null then
        return;
    end if;
    perform pg_advisory_xact_lock(hashtext('shelfsense_partition:' || part));
    execute format('create table if not exists %I partition of %I for values from (%L) to (%L)',
                   part, parent, lo, hi);
end
$$;

-- Every time-series table gets a daily partition for each day in [lo, hi].
create or replace function shelfsense_ensure_partitions(lo timestamptz, hi timestamptz) returns void
language plpgsql as $$
declare
    day date;
    parent text;
begin
    if hi < lo then
        return;
    end if;
    foreach parent in array array['rfid_reads', 'weight_samples', 'sensor_readings'] loop
        day := (lo at time zone 'UTC')::date;
        while day <= (hi at time zone 'UTC')::date loop
            perform shelfsense_ensure_partition(parent, day);
            day := day + 1;
        end loop;
    end loop;
end
$$;

-- Native retention: drop whole daily partitions older than keep (raw telemetry only).
create or replace function shelfsense_drop_partitions_before(parent text, cutoff timestamptz)
returns integer language plpgsql as $$
declare
    part record;
    dropped integer := 0;
begin
    if shelfsense_timeseries_backend() = 'timescale' then
        return 0;
    end if;
    for part in
        select c.relname from pg_inherits i
        join pg_class c on c.oid = i.inhrelid
        join pg_class p on p.oid = i.inhparent
        where p.relname = parent
          and c.relname ~ '_p[0-9]{8}$'
          and to_date(right(c.relname, 8), 'YYYYMMDD') + 1 <= (cutoff at time zone 'UTC')::date
    loop
        execute format('drop table %I', part.relname);
        dropped := dropped + 1;
    end loop;
    return dropped;
end
$$;
