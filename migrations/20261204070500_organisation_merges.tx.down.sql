ALTER TABLE organisations DROP CONSTRAINT organisations_merged_together;
ALTER TABLE organisations DROP CONSTRAINT organisations_not_merged_into_itself;
ALTER TABLE organisations DROP COLUMN updated_at;
ALTER TABLE organisations DROP COLUMN version;
ALTER TABLE organisations DROP COLUMN merged_at;
ALTER TABLE organisations DROP COLUMN merged_into_id;
