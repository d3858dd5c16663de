-- Fan-out: a request's CI runs belong to one of its environment's targets (a component or a
-- region); '' for an environment that deploys to one target. A step's attempts count per target,
-- and each run keeps its own wait after the CI failed to answer about it.
-- SQLite cannot drop a table constraint, so the table is rebuilt with the wider unique key.
create table ci_runs_fan_out (
    ci_run_id   integer primary key autoincrement,
    request_id  bigint not null constraint ci_runs_request_fkey references requests (request_id),
    target_id   text   not null default '',
    step        text   not null constraint ci_runs_step_check check (step in ('provision', 'deploy')),
    attempt     bigint not null default 1,
    connector   text   not null,
    target      text   not null,
    run_key     text   not null,
    state       text   not null,
    run_ref     text,
    url         text,
    log_tail    text   not null default '',
    message     text   not null default '',
    started_at  bigint not null,
    finished_at bigint,
    updated_at  bigint not null,
    -- After the CI failed to answer about this run: not before this time again.
    next_try_at bigint,
    constraint ci_runs_attempt_key unique (request_id, target_id, step, attempt)
);
insert into ci_runs_fan_out (ci_run_id, request_id, step, attempt, connector, target, run_key,
    state, run_ref, url, log_tail, message, started_at, finished_at, updated_at)
select ci_run_id, request_id, step, attempt, connector, target, run_key,
    state, run_ref, url, log_tail, message, started_at, finished_at, updated_at
from ci_runs;
drop table ci_runs;
alter table ci_runs_fan_out rename to ci_runs;
create index ci_runs_request_idx on ci_runs (request_id, ci_run_id);
