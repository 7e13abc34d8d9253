DROP INDEX requests_review_idx;
ALTER TABLE requests DROP COLUMN review_on;
DROP TABLE request_decisions;
DROP TABLE impact_assessments;
