-- Append-only, hash-chained audit trail. Each row carries the hash of the row before it (prev_hash) and the
-- SHA-256 of prev_hash plus its own canonical content (hash), so `portal audit verify` finds any row that was
-- changed, removed or reordered. Writers serialise on an advisory lock so the chain follows id order.
CREATE TABLE audit_events (
    id            bigint PRIMARY KEY,
    occurred_at   timestamptz NOT NULL,
    actor_user_id bigint,
    actor_name    text NOT NULL DEFAULT '',
    organisation_id bigint,
    action        text NOT NULL CHECK (action ~ '^[a-z_]+(\.[a-z_]+)+$'),
    entity_type   text NOT NULL DEFAULT '',
    entity_id     text NOT NULL DEFAULT '',
    before        jsonb,
    after         jsonb,
    ip            text NOT NULL DEFAULT '',
    request_id    text NOT NULL DEFAULT '',
    prev_hash     bytea NOT NULL,
    hash          bytea NOT NULL UNIQUE
);
CREATE SEQUENCE audit_events_id_seq OWNED BY audit_events.id;
CREATE INDEX audit_events_occurred_at_idx ON audit_events (occurred_at);
CREATE INDEX audit_events_actor_idx ON audit_events (actor_user_id, id);
CREATE INDEX audit_events_entity_idx ON audit_events (entity_type, entity_id, id);
CREATE INDEX audit_events_action_idx ON audit_events (action, id);

CREATE FUNCTION audit_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER audit_events_no_update_delete
    BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate
    BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
