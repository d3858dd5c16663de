-- The time zone the requester scheduled in, so the schedule is shown and edited in it.
alter table requests add column timezone text not null default 'UTC';
