DROP TABLE regional_views;
DROP TABLE nsig_appointments;
ALTER TABLE nsigs DROP COLUMN updated_at, DROP COLUMN version, DROP COLUMN chair_user_id;
