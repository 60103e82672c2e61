-- Sites and what they are made of (written by `shelfsense site apply`).
create table sites (
    site_id     text primary key,
    name        text not null,
    timezone    text not null default 'UTC',
    config      jsonb not null default '{}',
    updated_at  timestamptz not null default now()
);

create table products (
    site_id          text not null references sites on delete cascade,
    sku              text not null,
    name             text not null,
    gtin             text,
    unit_weight_g    double precision,
    reorder_point    integer,
    shelf_life_days  integer,
    expiry_lead_days integer,
    active           boolean not null default true,
    primary key (site_id, sku)
);
create unique index products_gtin on products (site_id, gtin) where gtin is not null and active;

create table locations (
    site_id      text not null references sites on delete cascade,
    location_id  text not null,
    kind         text not null check (kind in ('shelf', 'storage', 'portal', 'cooler', 'outside')),
    name         text,
    sku          text,
    min_qty      integer,
    capacity     integer,
    temp_min_c   double precision,
    temp_max_c   double precision,
    excursion_after_s integer,
    active       boolean not null default true,
    primary key (site_id, location_id)
);

create table gateways (
    site_id      text not null references sites on delete cascade,
    gateway_id   text not null,
    state        text not null default 'unknown' check (state in ('online', 'offline', 'unknown')),
    sw           text,
    backlog      integer,
    status_at    timestamptz,
    last_seen_at timestamptz,
    primary key (site_id, gateway_id)
);

create table devices (
    site_id      text not null references sites on delete cascade,
    device_id    text not null,
    gateway_id   text not null,
    kind         text not null check (kind in ('rfid', 'weight', 'env')),
    location_id  text,
    sku          text,
    tare_g       double precision,
    active       boolean not null default true,
    last_seen_at timestamptz,      -- arrival (wall) time of its last batch
    last_t1      timestamptz,      -- event time its last batch ended
    primary key (site_id, device_id)
);

create table device_antennas (
    site_id      text not null,
    device_id    text not null,
    port         integer not null,
    location_id  text not null,
    side         text check (side in ('inside', 'outside')),
    primary key (site_id, device_id, port),
    foreign key (site_id, device_id) references devices on delete cascade
);

create table api_tokens (
    id           bigserial primary key,
    name         text not null,
    role         text not null check (role in ('admin', 'operator', 'viewer')),
    token_hash   text not null unique,
    created_at   timestamptz not null default now(),
    expires_at   timestamptz,
    revoked_at   timestamptz,
    last_used_at timestamptz
);
