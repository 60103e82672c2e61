-- The stock ledger (movements) and current stock.
create table movements (
    id            bigserial primary key,
    site_id       text not null,
    ts            timestamptz not null,   -- when it happened in the store (event time)
    sku           text,                   -- null for tags whose product is unknown
    epc           text,                   -- null for weight movements
    from_location text,
    to_location   text,
    qty           integer not null check (qty > 0),
    kind          text not null,
    source        text not null check (source in ('rfid', 'weight', 'manual')),
    confidence    real not null default 1,
    device_id     text,
    ledger_id     bigint,                 -- the batch that produced it
    evidence      jsonb,
    recorded_at   timestamptz not null default now()
);
create index movements_site_ts on movements (site_id, ts);
create index movements_site_location_ts on movements (site_id, to_location, ts);
create index movements_epc on movements (site_id, epc) where epc is not null;

create table stock (
    site_id      text not null,
    sku          text not null,
    location_id  text not null,
    qty          integer not null,
    state        text not null check (state in ('ok', 'low', 'out', 'unknown')),
    updated_at   timestamptz not null,    -- event time of the last change
    primary key (site_id, sku, location_id)
);

-- Where every confirmed RFID tag is now (null location: seen, then gone).
create table rfid_tags (
    site_id      text not null,
    epc          text not null,
    sku          text,
    location_id  text,
    since        timestamptz not null,
    primary key (site_id, epc)
);
create index rfid_tags_location on rfid_tags (site_id, location_id);
