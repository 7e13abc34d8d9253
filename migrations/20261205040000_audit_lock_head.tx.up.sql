-- The audit trail's lock, its next id and its head in one round trip. A VOLATILE function takes a fresh
-- snapshot for each statement it runs (in read committed), so the head it reads after the lock is the
-- row of the writer that held the lock before; two statements from the client did the same in two.
CREATE FUNCTION audit_lock_head(lock_key bigint, OUT id bigint, OUT isolation text, OUT prev_hash bytea)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(lock_key);
    id := nextval('audit_events_id_seq');
    isolation := current_setting('transaction_isolation');
    SELECT e.hash INTO prev_hash FROM audit_events AS e ORDER BY e.id DESC LIMIT 1;
END
$$;
