-- What ingest accepted, in processing order, and what it rejected.
-- Every accepted batch (and gateway status change) has a ledger row; the row's id orders
-- replays after a restart. (site, gateway, device, seq) de-duplicates batches.
create table batch_ledger (
    id          bigserial primary key,
    site_id     text not null,
    gateway_id  text not null,
    device_id   text not null,        -- '' for gateway-level events (status)
    kind        text not null check (kind in ('rfid', 'weight', 'env', 'status', 'silence')),
    seq         bigint,               -- null for status and silence events
    t0          timestamptz not null,
    t1          timestamptz not null,
    ants        integer[],
    items       integer not null default 0,
    event       jsonb,                -- status payload or silence details
    received_at timestamptz not null default now()
);
create unique index batch_ledger_stream_seq on batch_ledger (site_id, gateway_id, device_id, seq)
    where seq is not null;
create index batch_ledger_partition on batch_ledger (site_id, gateway_id, id);
create index batch_ledger_received on batch_ledger (received_at);

create table dead_letters (
    id          bigserial primary key,
    received_at timestamptz not null default now(),
    topic       text not null,
    site_id     text,
    gateway_id  text,
    device_id   text,
    reason      text not null,
    size_bytes  integer not null,
    payload     bytea                 -- the first 64 KiB, for the operator to look at
);
create index dead_letters_received on dead_letters (received_at);
create index dead_letters_site on dead_letters (site_id, received_at);

-- A checkpoint of one ingest partition's in-memory state (trackers), valid up to ledger_id.
create table ingest_snapshots (
    site_id     text not null,
    gateway_id  text not null,
    ledger_id   bigint not null,
    state       jsonb not null,
    saved_at    timestamptz not null default now(),
    primary key (site_id, gateway_id)
);
