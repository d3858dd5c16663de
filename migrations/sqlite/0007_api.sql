-- The API for CI servers: tokens, gate checks, pipeline-opened requests, stage results.

-- A token a CI server presents as `Authorization: Bearer …`. Only a hash of its secret is kept.
create table api_tokens (
    api_token_id integer primary key autoincrement,
    name         text   not null,
    -- The first characters of the token, shown so an admin can tell tokens apart.
    prefix       text   not null,
    -- SHA-256 of the whole token, hex.
    secret_hash  text   not null constraint api_tokens_secret_key unique,
    -- Space-separated: gate:read, requests:write, events:write.
    scopes       text   not null,
    -- Space-separated application ids, or '*' for every application.
    applications text   not null,
    -- Whom the requests it opens are from, unless a request names someone else.
    user_id      bigint not null constraint api_tokens_user_fkey references users (user_id),
    created_by   bigint not null constraint api_tokens_creator_fkey references users (user_id),
    created_at   bigint not null,
    last_used_at bigint,
    revoked_at   bigint
);

-- Every gate answer, from a pipeline (token) or the dry-run form (user).
create table gate_checks (
    gate_check_id  integer primary key autoincrement,
    api_token_id   bigint constraint gate_checks_token_fkey references api_tokens (api_token_id),
    user_id        bigint constraint gate_checks_user_fkey references users (user_id),
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
create index gate_checks_target_idx on gate_checks (application_id, environment_id, gate_check_id);

-- Where a request came from; a pipeline-opened one may deploy itself (approval does not dispatch).
alter table requests add column origin text not null default 'portal';
alter table requests add column pipeline_url text not null default '';
alter table requests add column self_deploy bigint not null default 0;
create index requests_release_idx on requests (application_id, environment_id, version, request_id);

-- A retried `POST /api/v1/requests` with the same key answers with the request it made.
create table idempotency_keys (
    api_token_id bigint not null constraint idempotency_keys_token_fkey references api_tokens (api_token_id),
    key          text   not null,
    -- SHA-256 of the body: the same key with another body is refused.
    body_hash    text   not null,
    request_id   bigint not null constraint idempotency_keys_request_fkey references requests (request_id),
    created_at   bigint not null,
    primary key (api_token_id, key)
);

-- What the pipeline reports of its stages: build, test, deploy …, with their metrics.
create table stage_results (
    stage_result_id integer primary key autoincrement,
    request_id      bigint not null constraint stage_results_request_fkey references requests (request_id),
    application_id  text   not null,
    environment_id  text   not null,
    stage           text   not null,
    status          text   not null constraint stage_results_status_check check (status in ('started', 'succeeded', 'failed')),
    started_at      bigint,
    finished_at     bigint,
    -- A JSON object of named numbers: tests_passed, tests_failed, coverage, duration_ms …
    metrics         text   not null default '{}',
    api_token_id    bigint constraint stage_results_token_fkey references api_tokens (api_token_id),
    created_at      bigint not null
);
create index stage_results_request_idx on stage_results (request_id, stage_result_id);
create index stage_results_app_idx on stage_results (application_id, created_at);
