-- Dispatch: the worker's lease on a job, its retries, and what it waits for.
alter table dispatch_jobs add column lease_until bigint;
alter table dispatch_jobs add column attempts bigint not null default 0;
alter table dispatch_jobs add column note text not null default '';

-- One row per CI run the portal started: a request's provision and deploy steps, and retries.
create table ci_runs (
    ci_run_id   integer primary key autoincrement,
    request_id  bigint not null constraint ci_runs_request_fkey references requests (request_id),
    step        text   not null constraint ci_runs_step_check check (step in ('provision', 'deploy')),
    -- 1 for the first run of a step, 2 for its retry by operations, and so on.
    attempt     bigint not null default 1,
    connector   text   not null,
    target      text   not null,
    -- The idempotency key the CI run carries, so it is found again after a crash.
    run_key     text   not null,
    -- retry (asked for by operations, not started yet), triggering (about to call the CI),
    -- queued, running, succeeded, failed, cancelled.
    state       text   not null,
    run_ref     text,
    url         text,
    log_tail    text   not null default '',
    message     text   not null default '',
    started_at  bigint not null,
    finished_at bigint,
    updated_at  bigint not null,
    constraint ci_runs_attempt_key unique (request_id, step, attempt)
);
create index ci_runs_request_idx on ci_runs (request_id, ci_run_id);
