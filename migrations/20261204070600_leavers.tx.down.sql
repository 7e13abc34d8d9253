DROP INDEX users_leaving_date_idx;
ALTER TABLE users DROP COLUMN access_ended_reason;
ALTER TABLE users DROP COLUMN access_ended_at;
ALTER TABLE users DROP COLUMN leaving_date;
