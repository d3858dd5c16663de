-- The audit trail's hash chain (see domain/audit_chain.rs): each event's hash covers its content
-- and the hash of the request's event before it; the request keeps the hash of its last event.
-- Events written before this are chained when the portal starts.
alter table request_events add column prev_hash text;
alter table request_events add column hash text;
alter table requests add column audit_head text;
-- The last event written before the chain existed: only events up to it are ever chained after
-- the fact; one after it without a hash was not written by the portal.
create table audit_chain_start (chained_upto bigint not null);
insert into audit_chain_start (chained_upto) select coalesce(max(event_id), 0) from request_events;
