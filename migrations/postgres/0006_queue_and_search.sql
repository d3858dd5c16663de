-- The teams each request waiting for approval may ask now, kept with every change to the request:
-- the approver queue finds its requests by team instead of evaluating every pending one.
create table request_waits (
    team_id    text   not null,
    request_id bigint not null constraint request_waits_request_fkey references requests (request_id),
    constraint request_waits_pkey primary key (team_id, request_id)
);
create index request_waits_request_idx on request_waits (request_id);

-- Board search by title or version: trigram indexes, so a search reads the requests that contain
-- the text instead of every request. Where the server lacks pg_trgm the search still works, by
-- reading every request.
do $$
begin
    create extension if not exists pg_trgm;
exception when others then
    raise notice 'pg_trgm is not available (%): the board search will read every request', sqlerrm;
end
$$;
do $$
begin
    if exists (select 1 from pg_extension where extname = 'pg_trgm') then
        create index requests_title_trgm_idx on requests using gin (lower(title) gin_trgm_ops);
        create index requests_version_trgm_idx on requests using gin (lower(version) gin_trgm_ops);
    end if;
end
$$;
