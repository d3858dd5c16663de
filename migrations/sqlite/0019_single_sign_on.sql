-- People who sign in through the company's OpenID provider are named by its issuer and their
-- subject there, which never changes (their user name or email there may). They have no local
-- password: their password_hash is empty, which matches no password.
alter table users add column idp_subject text;
create unique index users_idp_subject on users (idp_subject);
