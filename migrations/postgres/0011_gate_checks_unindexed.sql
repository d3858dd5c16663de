-- The gate's records are read newest first (by their key) and by nothing else; the index on
-- application and environment was kept up to date on every recorded answer for no query.
drop index gate_checks_target_idx;
