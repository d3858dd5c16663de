-- Counts committed changes to requests and their approvals: every portal process reads it a few
-- times a second and drops what it keeps in memory for the gate when another process changed it.
create table change_counter (
    id integer primary key check (id = 1),
    n  integer not null
);
insert into change_counter (id, n) values (1, 0);
