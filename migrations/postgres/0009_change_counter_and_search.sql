-- Counts committed changes to requests and their approvals: every portal process reads it a few
-- times a second and drops what it keeps in memory for the gate when another replica changed it.
create table change_counter (
    id bigint primary key check (id = 1),
    n  bigint not null
);
insert into change_counter (id, n) values (1, 0);

-- Board search reads a narrow copy of what the board filters on: title and version as one
-- lower-case text, state, application and environment. The trigram index's candidates are checked
-- against these short rows instead of the full requests, and a page is cut before the requests
-- are read. A trigger keeps it in the transaction of every change.
create table request_search (
    request_id     bigint primary key
                   constraint request_search_request_fkey references requests (request_id) on delete cascade,
    state          text not null,
    application_id text not null,
    environment_id text not null,
    text           text not null
);
create function request_search_keep() returns trigger language plpgsql as $$
begin
    insert into request_search (request_id, state, application_id, environment_id, text)
    values (new.request_id, new.state, new.application_id, new.environment_id,
            lower(new.title) || chr(10) || lower(new.version))
    on conflict (request_id) do update set
        state = excluded.state,
        application_id = excluded.application_id,
        environment_id = excluded.environment_id,
        text = excluded.text;
    return null;
end
$$;
create trigger request_search_keep
    after insert or update of title, version, state, application_id, environment_id on requests
    for each row execute function request_search_keep();
insert into request_search (request_id, state, application_id, environment_id, text)
select request_id, state, application_id, environment_id, lower(title) || chr(10) || lower(version)
from requests;

drop index if exists requests_title_trgm_idx;
drop index if exists requests_version_trgm_idx;
do $$
begin
    if exists (select 1 from pg_extension where extname = 'pg_trgm') then
        create index request_search_text_trgm_idx on request_search using gin (text gin_trgm_ops);
    end if;
end
$$;
