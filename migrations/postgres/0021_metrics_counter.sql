-- Counts committed changes to what the delivery metrics are computed from (a deployment kept, a
-- commit time said, an incident opened): every replica keeps its finished Insights reports only
-- while this is what they were computed under.
create table metrics_counter (
    id bigint primary key check (id = 1),
    n  bigint not null
);
insert into metrics_counter (id, n) values (1, 0);
