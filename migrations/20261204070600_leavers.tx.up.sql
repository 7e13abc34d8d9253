-- Leavers: a leaving date, on which the portal ends their access; or access removed at once, with why.
-- Nothing a leaver wrote is deleted.
ALTER TABLE users ADD COLUMN leaving_date date;
ALTER TABLE users ADD COLUMN access_ended_at timestamptz;
ALTER TABLE users ADD COLUMN access_ended_reason text NOT NULL DEFAULT '';
CREATE INDEX users_leaving_date_idx ON users (leaving_date) WHERE leaving_date IS NOT NULL AND status <> 'left';
