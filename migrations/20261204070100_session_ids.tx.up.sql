-- A number for each session, so that a user can name one of theirs to end without its token or hash
-- leaving the database.
ALTER TABLE sessions ADD COLUMN id bigserial UNIQUE;
