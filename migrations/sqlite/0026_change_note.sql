-- The column beside a request's change kind holds an emergency's justification or the name of the
-- standard-change rule it met: named for both.
alter table requests rename column justification to change_note;
