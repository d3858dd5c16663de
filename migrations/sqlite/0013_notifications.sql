-- Who is told what: each person's notifications (the inbox), and the mail still to deliver.
alter table users add column email text not null default '';
alter table users add column time_zone text not null default '';
-- Changes to which notification kinds the person receives by email, comma-separated: +kind, -kind.
alter table users add column mail_prefs text not null default '';

-- One row per person told of a change, written in the change's own transaction.
create table notifications (
    notification_id integer primary key autoincrement,
    user_id    bigint not null constraint notifications_user_fkey references users (user_id) on delete cascade,
    request_id bigint not null constraint notifications_request_fkey references requests (request_id),
    kind       text   not null,
    subject    text   not null,
    detail     text   not null default '',
    created_at bigint not null,
    read_at    bigint
);
create index notifications_user_idx on notifications (user_id, notification_id);
create index notifications_unread_idx on notifications (user_id) where read_at is null;

-- A mail to send for a notification. The delivery worker folds every queued mail of one address
-- and one request into one message, and sends at most one such message a minute.
create table mail_outbox (
    mail_id         integer primary key autoincrement,
    notification_id bigint not null constraint mail_outbox_notification_fkey references notifications (notification_id) on delete cascade,
    address         text   not null,
    request_id      bigint not null,
    state           text   not null default 'queued' constraint mail_outbox_state_check check (state in ('queued', 'sent', 'failed')),
    due_at          bigint not null,
    attempts        bigint not null default 0,
    lease_until     bigint,
    last_error      text   not null default '',
    sent_at         bigint,
    message_id      text   not null default ''
);
create index mail_outbox_due_idx on mail_outbox (state, due_at);
create index mail_outbox_fold_idx on mail_outbox (address, request_id, state);
