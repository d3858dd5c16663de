-- A person's private address for the change calendar's feed: its key is kept hashed, one per
-- person; replacing it or revoking it ends the old address at once.
create table calendar_feeds (
    user_id    bigint not null primary key constraint calendar_feeds_user_fkey references users (user_id),
    key_hash   text   not null constraint calendar_feeds_key_key unique,
    created_at bigint not null
);
