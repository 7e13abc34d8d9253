DROP FUNCTION audit_append(bigint, bytea, bytea, timestamptz, bigint, text, bigint, text, text, text, jsonb, jsonb, text, text);

-- As 20261205040000_audit_lock_head made it.
CREATE FUNCTION audit_lock_head(lock_key bigint, OUT id bigint, OUT isolation text, OUT prev_hash bytea)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(lock_key);
    id := nextval('audit_events_id_seq');
    isolation := current_setting('transaction_isolation');
    SELECT e.hash INTO prev_hash FROM audit_events AS e ORDER BY e.id DESC LIMIT 1;
END
$$;
