-- Repeat until acknowledged (`shelfsense notify`): an alert that is neither acknowledged nor
-- cleared is told again to the recipients who were told, at most repeat_max times.

-- The reminders decided, one row per (alert, recipient, repeat number): the guard that makes a
-- reminder go out once however many notifiers run and however often they restart (whoever
-- inserts the row writes the deliveries, in the same transaction). release_at is when it was
-- due to go out (the end of quiet hours when it was held); the next one counts from there.
create table notify_reminders (
    alert_id      bigint not null,
    recipient_id  bigint not null references recipients on delete cascade,
    repeat_n      integer not null check (repeat_n >= 1),
    release_at    timestamptz not null,
    created_at    timestamptz not null default now(),
    primary key (alert_id, recipient_id, repeat_n)
);

-- Reminder deliveries point at the outbox event whose message they repeat, so the one-delivery-
-- per-event key now includes the repeat number (0: not a reminder).
alter table deliveries add column repeat_n integer not null default 0 check (repeat_n >= 0);
alter table deliveries drop constraint deliveries_alert_event_id_recipient_id_target_key;
alter table deliveries add constraint deliveries_once
    unique (alert_event_id, recipient_id, target, repeat_n);
alter table deliveries drop constraint deliveries_kind_check;
alter table deliveries add constraint deliveries_kind_check
    check (kind in ('alert', 'update', 'escalation', 'resolved', 'reminder'));
