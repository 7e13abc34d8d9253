ALTER TABLE nsig_appointments DROP COLUMN other_region_reason;
