-- Alerts: one active alert per (site, type, subject) that updates instead of repeating.
-- subject is the thing it concerns, e.g. 'location:floor/aisle-1/shelf-1|sku:TUNA-160',
-- 'device:reader-1', 'gateway:gw-1'. status: active -> acknowledged -> cleared (history kept).
create table alerts (
    id           bigserial primary key,
    site_id      text not null,
    type         text not null,
    subject      text not null,
    severity     text not null check (severity in ('info', 'warning', 'major', 'critical')),
    status       text not null default 'active' check (status in ('active', 'acknowledged', 'cleared')),
    location_id  text,
    sku          text,
    device_id    text,
    opened_at    timestamptz not null,      -- event time the condition became true
    updated_at   timestamptz not null,
    acked_at     timestamptz,
    acked_by     text,
    cleared_at   timestamptz,
    updates      integer not null default 0,
    details      jsonb not null default '{}'
);
create unique index alerts_one_open on alerts (site_id, type, subject) where status <> 'cleared';
create index alerts_site_status on alerts (site_id, status, opened_at);
