-- When an account was disabled: it cannot sign in, and its open sessions end at their next
-- request (each request reads the account). Null while it is enabled.
alter table users add column disabled_at bigint;
