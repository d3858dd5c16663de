-- Fan-out: a request's CI runs belong to one of its environment's targets (a component or a
-- region); '' for an environment that deploys to one target. A step's attempts count per target.
alter table ci_runs add column target_id text not null default '';
alter table ci_runs drop constraint ci_runs_attempt_key;
alter table ci_runs add constraint ci_runs_attempt_key unique (request_id, target_id, step, attempt);
