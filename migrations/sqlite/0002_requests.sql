-- Release requests, the decisions on them, their audit trail and the dispatch outbox.

create table requests (
    request_id         integer primary key autoincrement,
    application_id     text    not null,
    environment_id     text    not null,
    requester_id       bigint  not null constraint requests_requester_fkey references users (user_id),
    title              text    not null,
    version            text    not null,
    artifact           text    not null default '',
    summary            text    not null default '',
    risk               text    not null constraint requests_risk_check check (risk in ('low', 'medium', 'high')),
    rollback_plan      text    not null default '',
    -- UTC epoch ms; null means "deploy as soon as approved".
    scheduled_at       bigint,
    -- The extra fields the application's form declares, as a JSON object.
    fields             text    not null default '{}',
    state              text    not null,
    -- The policy as it was when the request was submitted (JSON), and the catalog version it came from.
    policy             text    not null,
    catalog_version_id bigint,
    -- Bumped by every change: a decision made on an older revision is a conflict.
    revision           bigint  not null default 1,
    created_at         bigint  not null,
    updated_at         bigint  not null
);
create index requests_state_idx on requests (state, request_id);
create index requests_target_idx on requests (application_id, environment_id, request_id);
create index requests_requester_idx on requests (requester_id, request_id);

create table decisions (
    decision_id integer primary key autoincrement,
    request_id  bigint  not null constraint decisions_request_fkey references requests (request_id),
    user_id     bigint  not null constraint decisions_user_fkey references users (user_id),
    -- The approver's teams when they decided, comma-separated.
    teams       text    not null,
    stage       bigint  not null,
    verdict     text    not null constraint decisions_verdict_check check (verdict in ('approve', 'reject')),
    comment     text    not null default '',
    decided_at  bigint  not null,
    voided      bigint  not null default 0
);
-- One live decision per person and stage.
create unique index decisions_once_key on decisions (request_id, user_id, stage) where voided = 0;

-- Append-only audit trail: every action, written in the transaction of the change it records.
create table request_events (
    event_id   integer primary key autoincrement,
    request_id bigint  not null constraint request_events_request_fkey references requests (request_id),
    actor_id   bigint  constraint request_events_actor_fkey references users (user_id),
    kind       text    not null,
    payload    text    not null default '{}',
    at         bigint  not null
);
create index request_events_request_idx on request_events (request_id, event_id);

-- The outbox: written by the final approval, claimed by the dispatch worker.
create table dispatch_jobs (
    dispatch_job_id integer primary key autoincrement,
    request_id      bigint  not null constraint dispatch_jobs_request_key unique
                            constraint dispatch_jobs_request_fkey references requests (request_id),
    due_at          bigint  not null,
    state           text    not null default 'queued',
    created_at      bigint  not null
);
create index dispatch_jobs_due_idx on dispatch_jobs (state, due_at);
