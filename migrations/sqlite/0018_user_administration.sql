-- Who each session belongs to, so that disabling a person ends every session of theirs at once
-- (and enabling them again revives none). Null until someone signs in with it.
alter table sessions add column user_id bigint;
create index sessions_user_idx on sessions (user_id);
update sessions set user_id = json_extract(data, '$.data.user_id');

-- The sign-in throttle, shared by every replica: failures per user name and per client address
-- (keys `user:<name>` and `client:<address>`), within a window, and a lockout once too many.
create table login_attempts (
    attempt_key  text   not null constraint login_attempts_pkey primary key,
    failures     bigint not null,
    first_at     bigint not null,
    locked_until bigint
);

-- What administrators did to accounts, chained like a request's trail (see
-- domain/audit_chain.rs; this chain is numbered 0).
create table admin_events (
    event_id  integer primary key autoincrement,
    actor_id  bigint,
    kind      text   not null,
    payload   text   not null,
    at        bigint not null,
    prev_hash text   not null,
    hash      text   not null
);
-- The hash of the last administration event: a removed last event shows as a mismatch.
create table admin_audit_head (
    id   integer not null constraint admin_audit_head_pkey primary key,
    hash text    not null
);
insert into admin_audit_head (id, hash) values (1, '');
