-- Signed checkpoints of the audit trail's head. Every few minutes the portal records how many rows the
-- trail holds, the id of the last and its hash, signed with a key the database does not hold, so that
-- `portal audit verify` notices rows removed from the end of the trail, which leave the chain itself
-- intact. Checkpoints, like the trail, are only ever added.
CREATE TABLE audit_checkpoints (
    id        bigint PRIMARY KEY,
    taken_at  timestamptz NOT NULL,
    row_count bigint NOT NULL CHECK (row_count >= 0),
    last_id   bigint NOT NULL CHECK (last_id >= 0),
    head_hash bytea NOT NULL CHECK (length(head_hash) = 32),
    key_id    text NOT NULL CHECK (key_id ~ '^[0-9a-f]{16}$'),
    mac       bytea NOT NULL CHECK (length(mac) = 32)
);
CREATE SEQUENCE audit_checkpoints_id_seq OWNED BY audit_checkpoints.id;

CREATE FUNCTION audit_checkpoints_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_checkpoints is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER audit_checkpoints_no_update_delete
    BEFORE UPDATE OR DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION audit_checkpoints_append_only();
CREATE TRIGGER audit_checkpoints_no_truncate
    BEFORE TRUNCATE ON audit_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION audit_checkpoints_append_only();

-- Whatever role the portal serves as may add checkpoints and read them, never change them (see the
-- audit_runtime_privileges migration).
DO $$
DECLARE g record;
BEGIN
    FOR g IN
        SELECT DISTINCT a.grantee
        FROM pg_class AS c, aclexplode(c.relacl) AS a
        WHERE c.oid = 'audit_checkpoints'::regclass
          AND a.grantee <> c.relowner
          AND a.privilege_type IN ('UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER')
    LOOP
        EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON audit_checkpoints FROM %s',
            CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE g.grantee::regrole::text END);
    END LOOP;
END
$$;
