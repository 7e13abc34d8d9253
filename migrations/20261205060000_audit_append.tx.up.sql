-- An audit event appended in one statement: the lock, the head, the hash and the row. The lock is held
-- from here to the commit, so every round trip inside it delays every other writer; the two statements
-- before (audit_lock_head, then the INSERT with the hash worked out in the portal) were two. The portal
-- still defines the hashed content (audit.canonicalContent): it sends the bytes before the id (head) and
-- after it (rest), and the row's hash is SHA-256(prev_hash || head || id, 8 bytes big-endian || rest),
-- which Verify works out again from the row as it reads it. A VOLATILE function takes a fresh snapshot
-- for each statement it runs (in read committed), so the head it reads after the lock is the row of the
-- writer that held the lock before.
CREATE FUNCTION audit_append(lock_key bigint, head bytea, rest bytea, a_occurred_at timestamptz,
    a_actor_user_id bigint, a_actor_name text, a_organisation_id bigint, a_action text, a_entity_type text,
    a_entity_id text, a_before jsonb, a_after jsonb, a_ip text, a_request_id text) RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    new_id bigint;
    prev bytea;
BEGIN
    -- A snapshot older than the lock may miss the previous writer's row and fork the chain.
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'transaction isolation is %; audit events need read committed', current_setting('transaction_isolation');
    END IF;
    PERFORM pg_advisory_xact_lock(lock_key);
    new_id := nextval('audit_events_id_seq');
    SELECT e.hash INTO prev FROM audit_events AS e ORDER BY e.id DESC LIMIT 1;
    IF prev IS NULL THEN
        prev := decode(repeat('00', 32), 'hex'); -- the first row's: audit.genesis
    END IF;
    INSERT INTO audit_events (id, occurred_at, actor_user_id, actor_name, organisation_id, action, entity_type,
        entity_id, before, after, ip, request_id, prev_hash, hash)
    VALUES (new_id, a_occurred_at, a_actor_user_id, a_actor_name, a_organisation_id, a_action, a_entity_type,
        a_entity_id, a_before, a_after, a_ip, a_request_id, prev, sha256(prev || head || int8send(new_id) || rest));
    RETURN new_id;
END
$$;

-- Replaced by audit_append.
DROP FUNCTION audit_lock_head(bigint);
