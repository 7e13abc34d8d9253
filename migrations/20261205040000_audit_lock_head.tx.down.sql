DROP FUNCTION audit_lock_head(bigint);
