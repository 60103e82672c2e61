-- Time-series tables as TimescaleDB hypertables (1-day chunks), compressed after 7 days and
-- dropped after 90 (raw telemetry only; stock_history is kept). Same columns as the native path.
create extension if not exists timescaledb;

create table rfid_reads (
    ts        timestamptz not null,
    site_id   text not null,
    device_id text not null,
    ant       smallint not null,
    epc       text not null,
    rssi      real,
    n         integer not null default 1
);
select create_hypertable('rfid_reads', 'ts', chunk_time_interval => interval '1 day');
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
);
select create_hypertable('weight_samples', 't0', chunk_time_interval => interval '1 day');
create index weight_samples_device_t0 on weight_samples (site_id, device_id, t0);

create table sensor_readings (
    ts          timestamptz not null,
    site_id     text not null,
    device_id   text not null,
    location_id text,
    temp_c      real,
    rh          real,
    batt_v      real
);
select create_hypertable('sensor_readings', 'ts', chunk_time_interval => interval '7 days');
create index sensor_readings_location_ts on sensor_readings (site_id, location_id, ts);

create table stock_history (
    ts          timestamptz not null,
    site_id     text not null,
    sku         text not null,
    location_id text not null,
    qty         integer not null,
    state       text not null
);
select create_hypertable('stock_history', 'ts', chunk_time_interval => interval '7 days');
create index stock_history_cell_ts on stock_history (site_id, sku, location_id, ts);

alter table rfid_reads set (timescaledb.compress,
    timescaledb.compress_segmentby = 'site_id, device_id', timescaledb.compress_orderby = 'ts');
alter table weight_samples set (timescaledb.compress,
    timescaledb.compress_segmentby = 'site_id, device_id', timescaledb.compress_orderby = 't0');
alter table sensor_readings set (timescaledb.compress,
    timescaledb.compress_segmentby = 'site_id, device_id', timescaledb.compress_orderby = 'ts');
select add_compression_policy('rfid_reads', interval '7 days');
select add_compression_policy('weight_samples', interval '7 days');
select add_compression_policy('sensor_readings', interval '30 days');
select add_retention_policy('rfid_reads', interval '90 days');
select add_retention_policy('weight_samples', interval '90 days');
select add_retention_policy('sensor_readings', interval '400 days');
