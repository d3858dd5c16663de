-- The teams each request waiting for approval may ask now, kept with every change to the request:
-- the approver queue finds its requests by team instead of evaluating every pending one.
create table request_waits (
    team_id    text   not null,
    request_id bigint not null constraint request_waits_request_fkey references requests (request_id),
    constraint request_waits_pkey primary key (team_id, request_id)
);
create index request_waits_request_idx on request_waits (request_id);

-- Board search by title or version: a trigram index over both, so a search reads the requests
-- that contain the text instead of every request.
create virtual table request_search using fts5 (
    title, version, content = 'requests', content_rowid = 'request_id', tokenize = 'trigram'
);
create trigger request_search_insert after insert on requests begin
    insert into request_search (rowid, title, version) values (new.request_id, new.title, new.version);
end;
create trigger request_search_update after update of title, version on requests begin
    insert into request_search (request_search, rowid, title, version)
        values ('delete', old.request_id, old.title, old.version);
    insert into request_search (rowid, title, version) values (new.request_id, new.title, new.version);
end;
create trigger request_search_delete after delete on requests begin
    insert into request_search (request_search, rowid, title, version)
        values ('delete', old.request_id, old.title, old.version);
end;
insert into request_search (request_search) values ('rebuild');
