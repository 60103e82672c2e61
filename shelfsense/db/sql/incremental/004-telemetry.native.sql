-- Telemetry tables, natively range-partitioned by day (shelfsense_ensure_partition).
create table rfid_reads (
    ts        timestamptz not null,
    site_id   text not null,
    device_id text not null,
    ant       smallint not null,
    epc       text not null,
    rssi      real,
    n         integer not null default 1
) partition by range (ts);
-- BRIN, not a btree: raw reads arrive in time order at 100,000+ rows/s, and a btree over
-- (site, device, ts) made every row three times as expensive to write. Readers (replay after a
-- crash, dashboards) always give a time range and filter devices within it.
create index rfid_reads_ts on rfid_reads using brin (ts) with (pages_per_range = 32);

create table weight_samples (
    t0        timestamptz not null,
    t1        timestamptz not null,
    site_id   text not null,
    device_id text not null,
    hz        real not null,
    grams     real[] not null
) partition by range (t0);
create index weight_samples_device_t0 on weight_samples (site_id, device_id, t0);

create table sensor_readings (
    ts          timestamptz not null,
    site_id     text not null,
    device_id   text not null,
    location_id text,
    temp_c      real,
    rh          real,
    batt_v      real
) partition by range (ts);
create index sensor_readings_location_ts on sensor_readings (site_id, location_id, ts);

-- Stock history is small (a row per change of a cell) and every `?at=` read looks back across
-- all of it: a plain table, so a read does not lock a partition per day of history.
create table stock_history (
    ts          timestamptz not null,
    site_id     text not null,
    sku         text not null,
    location_id text not null,
    qty         integer not null,
    state       text not null
);
create index stock_history_cell_ts on stock_history (site_id, sku, location_id, ts);
