-- What kind of change a request is: a normal one, an emergency (break-glass) change raised with
-- a justification under its environment's emergency path, or a rollback of an earlier request.
alter table requests add column change_kind text not null default 'normal';
alter table requests add column justification text not null default '';
alter table requests add column rollback_of bigint;

-- When a ticket must be resolved by: a post-implementation review of an emergency change is
-- due within its policy's limit, and listed as overdue after it.
alter table tickets add column due_at bigint;
create index tickets_due_idx on tickets (state, due_at);
