-- Reminders and escalation of a request that waits for approval: when its approvers are reminded
-- next and when the policy's escalation team is told. A row exists only while one is due.
create table chases (
    request_id  bigint primary key constraint chases_request_fkey references requests (request_id),
    remind_at   bigint,
    escalate_at bigint
);
create index chases_remind_idx on chases (remind_at);
create index chases_escalate_idx on chases (escalate_at);

-- A chat message to post for a notification: to the incoming webhook whose address the named
-- environment variable holds (the address carries a secret, so it is never stored).
create table chat_outbox (
    chat_id     integer primary key autoincrement,
    request_id  bigint not null,
    webhook_env text   not null,
    body        text   not null,
    state       text   not null default 'queued' constraint chat_outbox_state_check check (state in ('queued', 'sent', 'failed')),
    due_at      bigint not null,
    attempts    bigint not null default 0,
    last_error  text   not null default '',
    sent_at     bigint
);
create index chat_outbox_due_idx on chat_outbox (state, due_at);

-- When the person's last daily digest went (those who asked for one in their mail preferences).
alter table users add column digest_sent_at bigint;

-- Out of office: from when until when a person is away, and who decides in their place.
alter table users add column away_from bigint;
alter table users add column away_until bigint;
alter table users add column delegate_id bigint;
-- The delegate who decided in the approver's place.
alter table decisions add column acted_by bigint;
