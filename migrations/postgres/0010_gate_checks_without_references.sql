-- The gate's records are an append-only log written at the rate pipelines ask. A foreign key
-- made every recorded answer look up and lock its token's and user's rows; tokens and users are
-- never deleted (tokens are revoked, users kept for the audit), so the references guarded nothing.
alter table gate_checks
    drop constraint gate_checks_token_fkey,
    drop constraint gate_checks_user_fkey;
