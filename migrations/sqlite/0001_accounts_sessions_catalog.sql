-- Accounts, teams memberships, sessions and applied catalog versions.
-- Timestamps are UTC epoch milliseconds; booleans are 0/1 integers (same schema as PostgreSQL).

create table users (
    user_id       integer primary key autoincrement,
    username      text    not null constraint users_username_key unique,
    display_name  text    not null,
    password_hash text    not null,
    is_admin      integer not null default 0,
    created_at    bigint  not null
);

-- Teams themselves are defined by the catalog; a membership names a catalog team id.
create table memberships (
    user_id bigint not null constraint memberships_user_fkey references users (user_id) on delete cascade,
    team_id text   not null,
    constraint memberships_pkey primary key (user_id, team_id)
);
create index memberships_team_idx on memberships (team_id);

create table sessions (
    session_id text   not null constraint sessions_pkey primary key,
    data       text   not null,
    expires_at bigint not null
);
create index sessions_expires_idx on sessions (expires_at);

-- Every catalog version ever applied; the newest row is the one in force.
create table catalog_versions (
    catalog_version_id integer primary key autoincrement,
    checksum           text   not null,
    source             text   not null,
    origin             text   not null,
    applied_at         bigint not null
);
