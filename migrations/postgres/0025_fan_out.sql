-- Fan-out: a request's CI runs belong to one of its environment's targets (a component or a
-- region); '' for an environment that deploys to one target. A step's attempts count per target,
-- and each run keeps its own wait after the CI failed to answer about it.
alter table ci_runs add column target_id text not null default '';
alter table ci_runs drop constraint ci_runs_attempt_key;
alter table ci_runs add constraint ci_runs_attempt_key unique (request_id, target_id, step, attempt);
-- After the CI failed to answer about this run: not before this time again.
alter table ci_runs add column next_try_at bigint;
