DROP TABLE schedule_publications;
DROP FUNCTION schedule_publications_immutable();
ALTER TABLE business_justifications DROP COLUMN first_submitted_at;
