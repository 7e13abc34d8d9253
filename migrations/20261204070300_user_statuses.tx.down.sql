UPDATE users SET status = 'disabled' WHERE status NOT IN ('active', 'disabled');
ALTER TABLE users DROP CONSTRAINT users_status_check;
ALTER TABLE users ADD CONSTRAINT users_status_check CHECK (status IN ('active', 'disabled'));
