-- The gate's records are an append-only log written at the rate pipelines ask. A foreign key
-- made every recorded answer look up its token's and user's rows; tokens and users are never
-- deleted (tokens are revoked, users kept for the audit), so the references guarded nothing.
-- SQLite drops a constraint by building the table again.
create table gate_checks_new (
    gate_check_id  integer primary key autoincrement,
    api_token_id   bigint,
    user_id        bigint,
    application_id text   not null,
    environment_id text   not null,
    version        text   not null,
    artifact       text   not null default '',
    actor          text   not null default '',
    pipeline_url   text   not null default '',
    -- The moment asked about (now, or a hypothetical one for a dry run).
    at             bigint not null,
    dry_run        bigint not null default 0,
    decision       text   not null constraint gate_checks_decision_check check (decision in ('allow', 'deny', 'pending')),
    request_id     bigint,
    rule           text   not null,
    reasons        text   not null,
    created_at     bigint not null
);
insert into gate_checks_new select * from gate_checks;
drop table gate_checks;
alter table gate_checks_new rename to gate_checks;
create index gate_checks_target_idx on gate_checks (application_id, environment_id, gate_check_id);
