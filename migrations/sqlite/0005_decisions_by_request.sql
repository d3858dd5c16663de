-- Every read of a request's decisions goes by request.
create index decisions_request_idx on decisions (request_id, decision_id);
