-- The gate's records took their keys from SQLite's sequence table (`autoincrement`), so every
-- commit of records also rewrote that table's page: under a steady gate load, about one page in
-- four of the log written. The records are only ever added, never deleted, so SQLite's plain key
-- (the largest so far plus one) gives the same rising numbers. SQLite changes a key's kind by
-- building the table again: on a large table the first start of this version copies every
-- record, in one transaction, before it serves.
create table gate_checks_new (
    gate_check_id  integer primary key,
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
insert into gate_checks_new (gate_check_id, api_token_id, user_id, application_id, environment_id, version, artifact,
    actor, pipeline_url, at, dry_run, decision, request_id, rule, reasons, created_at)
select gate_check_id, api_token_id, user_id, application_id, environment_id, version, artifact,
    actor, pipeline_url, at, dry_run, decision, request_id, rule, reasons, created_at
from gate_checks;
-- Dropping the table also drops its row of SQLite's sequence table.
drop table gate_checks;
alter table gate_checks_new rename to gate_checks;
