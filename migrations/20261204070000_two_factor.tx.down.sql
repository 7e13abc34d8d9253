ALTER TABLE sessions DROP COLUMN verified_by;
ALTER TABLE sessions DROP COLUMN verified_at;
DROP TABLE recovery_codes;
DROP TABLE totp_factors;
