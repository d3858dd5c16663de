-- Tickets raised by failures, as the catalog's ticket rules say: an incident or a task for a team.
create table tickets (
    ticket_id       integer primary key autoincrement,
    request_id      bigint not null constraint tickets_request_fkey references requests (request_id),
    rule_id         text   not null,
    kind            text   not null constraint tickets_kind_check check (kind in ('incident', 'task')),
    title           text   not null,
    detail          text   not null default '',
    owner_team      text   not null,
    state           text   not null constraint tickets_state_check check (state in ('open', 'acknowledged', 'resolved')),
    opened_at       bigint not null,
    acknowledged_at bigint,
    resolved_at     bigint,
    -- Posted to this address as JSON when the rule names one: '' (no webhook), pending, delivered, failed.
    webhook_url     text   not null default '',
    webhook_state   text   not null default '',
    webhook_attempts bigint not null default 0,
    webhook_due_at  bigint,
    webhook_note    text   not null default '',
    updated_at      bigint not null
);
create index tickets_state_idx on tickets (state, ticket_id);
create index tickets_request_idx on tickets (request_id, ticket_id);
create index tickets_webhook_idx on tickets (webhook_state, webhook_due_at);

create table ticket_comments (
    ticket_comment_id integer primary key autoincrement,
    ticket_id  bigint not null constraint ticket_comments_ticket_fkey references tickets (ticket_id),
    -- Null for the portal's own notes (state changes by the system).
    user_id    bigint constraint ticket_comments_user_fkey references users (user_id),
    body       text   not null,
    created_at bigint not null
);
create index ticket_comments_ticket_idx on ticket_comments (ticket_id, ticket_comment_id);
