-- A notice written in the transaction of the change it tells of, and expanded by a worker into
-- one notification per person (with their mail and the chat messages) right after the commit:
-- telling a stage of hundreds of approvers costs the change one row.
create table pending_notices (
    notice_id  integer primary key autoincrement,
    request_id bigint not null constraint pending_notices_request_fkey references requests (request_id),
    kind       text   not null,
    -- The release as it was then: the request may be edited before the notice is told.
    version    text   not null,
    audience   text   not null,
    detail     text   not null default '',
    actor      bigint,
    -- Told to everyone up to this user id: a large audience is told a few dozen per transaction.
    told_upto  bigint not null default 0,
    created_at bigint not null
);
