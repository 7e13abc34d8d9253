DROP TABLE request_alerts;
DROP INDEX requests_not_taken_forward_idx;
DROP INDEX request_decisions_decided_idx;
DROP INDEX request_events_moves_idx;
DROP FUNCTION request_stage_times(bigint, date);
DROP FUNCTION working_days_between(date, date);
DROP TABLE calendar_days;
