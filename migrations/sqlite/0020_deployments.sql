-- When the change was committed, when a pipeline says (the earliest of its commits).
alter table requests add column commit_at bigint;

-- Every deployment that ended, written by the apply step in the transaction that ended it, with
-- where its lead time went: the delivery metrics read these instead of replaying audit trails.
create table deployments (
    deployment_id  integer primary key autoincrement,
    request_id     bigint not null constraint deployments_request_fkey references requests (request_id),
    application_id text   not null,
    environment_id text   not null,
    version        text   not null,
    requested_at   bigint not null,
    commit_at      bigint,
    finished_at    bigint not null,
    succeeded      bigint not null constraint deployments_succeeded_check check (succeeded in (0, 1)),
    -- The segments of the lead time, in milliseconds, from the request being opened: waiting for
    -- approvals, waiting for the schedule or a window, provisioning, deploying.
    approval_ms    bigint not null,
    waiting_ms     bigint not null,
    provision_ms   bigint not null,
    deploy_ms      bigint not null,
    -- A request ends one deployment at a time.
    constraint deployments_once_key unique (request_id, finished_at)
);
create index deployments_place_idx on deployments (environment_id, finished_at);

-- How long each approval stage waited to be satisfied, and each approver team to answer.
create table deployment_waits (
    deployment_id bigint not null constraint deployment_waits_deployment_fkey references deployments (deployment_id),
    kind          text   not null constraint deployment_waits_kind_check check (kind in ('stage', 'team')),
    name          text   not null,
    ms            bigint not null
);
create index deployment_waits_deployment_idx on deployment_waits (deployment_id);
