-- Alert delivery: who is told, how, and the log of every message (`shelfsense notify`).
-- The notifier reads the alert_events outbox (007) and never writes alerts except through the
-- API's acknowledgement links; nothing here references alert_events by foreign key so that the
-- outbox can be pruned without touching the delivery log.

-- Secrets generated on first use (ack link HMAC key, VAPID key pair); never returned by the API.
create table notify_secrets (
    name        text primary key,
    value       text not null,
    created_at  timestamptz not null default now()
);

-- People (or group channels) to tell. channels are apprise-style URLs (ntfy://, ntfys://,
-- json://, jsons://, and anything apprise knows); they hold secrets: the API masks them.
create table recipients (
    id               bigserial primary key,
    site_id          text references sites on delete cascade,     -- null: every site
    name             text not null,
    role             text not null default 'staff',
    escalation_level integer not null default 1 check (escalation_level between 1 and 9),
    min_severity     text not null default 'warning'
                     check (min_severity in ('info', 'warning', 'major', 'critical')),
    alert_types      text[] not null default '{}',                -- empty: every type
    channels         text[] not null default '{}',
    timezone         text not null default 'UTC',
    quiet_start      time,                                        -- local time, in timezone
    quiet_end        time,
    digest_severity  text check (digest_severity in ('info', 'warning', 'major')),
    token_id         bigint references api_tokens on delete set null,  -- the recipient's login
    active           boolean not null default true,
    created_at       timestamptz not null default now(),
    updated_at       timestamptz not null default now(),
    check ((quiet_start is null) = (quiet_end is null))
);
create index recipients_token on recipients (token_id) where token_id is not null;

create table webpush_subscriptions (
    id            bigserial primary key,
    recipient_id  bigint not null references recipients on delete cascade,
    endpoint      text not null unique,
    p256dh        text not null,
    auth          text not null,
    created_at    timestamptz not null default now()
);

-- Outbox events already turned into deliveries (one row per alert_events.id).
create table notify_processed (
    alert_event_id  bigint primary key,
    deliveries      integer not null,
    processed_at    timestamptz not null default now()
);

-- Escalation levels an alert has reached, and when (level 1 = its opening).
create table notify_escalations (
    alert_id    bigint not null,
    level       integer not null,
    reached_at  timestamptz not null default now(),
    primary key (alert_id, level)
);

-- The delivery log with its retry state. status:
--   pending  waiting for its first attempt      held     delayed (quiet hours, digest)
--   sending  leased by a notifier until next_attempt_at (a crashed notifier's lease expires)
--   failed   last attempt failed; retried at next_attempt_at
--   sent     delivered                          dead     gave up (attempts, expired endpoint)
--   cancelled  made moot (acknowledged or cleared before it went out)
create table deliveries (
    id               bigserial primary key,
    alert_event_id   bigint not null,
    alert_id         bigint not null,
    recipient_id     bigint not null references recipients on delete cascade,
    kind             text not null check (kind in ('alert', 'update', 'escalation', 'resolved')),
    severity         text not null,
    title            text not null,
    body             text not null,
    channel          text not null,          -- masked, for people
    target           text not null,          -- the real URL or webpush:ID; never shown
    digest           boolean not null default false,
    status           text not null default 'pending' check (status in
                     ('pending', 'held', 'sending', 'failed', 'sent', 'dead', 'cancelled')),
    attempts         integer not null default 0,
    next_attempt_at  timestamptz not null,
    last_error       text,
    created_at       timestamptz not null default now(),
    sent_at          timestamptz,
    unique (alert_event_id, recipient_id, target)
);
create index deliveries_due on deliveries (next_attempt_at)
    where status in ('pending', 'held', 'sending', 'failed');
create index deliveries_alert on deliveries (alert_id, recipient_id);
