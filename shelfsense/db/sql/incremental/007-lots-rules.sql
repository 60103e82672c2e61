-- Lots and expiry, alert rule overrides, and the alert outbox (issue 5 part A).

-- One receipt of one product: RFID items join it by EPC (lot_items), weight-shelf items by
-- quantity at a location (remaining_qty, lowered first-expiry-first-out as the shelf is picked).
create table lots (
    lot_id        bigserial primary key,
    site_id       text not null references sites on delete cascade,
    sku           text not null,
    gtin          text,
    lot_code      text not null,
    expiry_date   date not null,          -- sellable through this date (site's local time)
    received_at   timestamptz not null default now(),
    received_qty  integer not null check (received_qty > 0),
    remaining_qty integer check (remaining_qty >= 0),  -- weight-shelf lots only
    location_id   text,                   -- weight-shelf lots only
    check ((remaining_qty is null) = (location_id is null))
);
create index lots_site_expiry on lots (site_id, expiry_date);
create index lots_fefo on lots (site_id, sku, location_id, expiry_date, lot_id)
    where remaining_qty > 0;

create table lot_items (
    site_id  text not null,
    epc      text not null,
    lot_id   bigint not null references lots on delete cascade,
    primary key (site_id, epc)
);
create index lot_items_lot on lot_items (lot_id);

-- Per-site overrides of the rule defaults (shelfsense.alerting.RULE_SPECS).
create table alert_rules (
    site_id    text not null references sites on delete cascade,
    rule_key   text not null,
    enabled    boolean not null default true,
    params     jsonb not null default '{}',
    updated_at timestamptz not null default now(),
    primary key (site_id, rule_key)
);

-- The outbox: one row per alert state change, written in the transaction that made it,
-- followed by NOTIFY shelfsense_alerts '{"site": ..., "event_id": ...}'. Part B consumes it.
create table alert_events (
    id         bigserial primary key,
    site_id    text not null,
    alert_id   bigint not null references alerts on delete cascade,
    event      text not null
               check (event in ('opened', 'updated', 'acknowledged', 'cleared', 'escalated')),
    severity   text not null check (severity in ('info', 'warning', 'major', 'critical')),
    ts         timestamptz not null,      -- event time of the change
    created_at timestamptz not null default now(),
    payload    jsonb not null default '{}'
);
create index alert_events_site_id on alert_events (site_id, id);
create index alert_events_alert on alert_events (alert_id, id);

alter table alerts add column cleared_by text;           -- null: the condition went away
alter table alerts add column lot_id bigint;
create index alerts_site_opened on alerts (site_id, opened_at desc);
