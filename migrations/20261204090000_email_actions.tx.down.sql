ALTER TABLE email_outbox DROP COLUMN email_level, DROP COLUMN actions;
DROP INDEX action_links_user_idx;
DELETE FROM action_links WHERE action IS NOT NULL;
ALTER TABLE action_links DROP CONSTRAINT action_links_action_has_version, DROP COLUMN version, DROP COLUMN action;
