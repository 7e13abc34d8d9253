-- The portal serves as a runtime role that owns nothing: only the owner role, which runs the migrations,
-- can alter the audit trail's table or disable its triggers. Whatever role serves may add to and read
-- the trail, never change it: take every other privilege on it from every role but its owner (default
-- privileges for the runtime role may have granted them).
DO $$
DECLARE g record;
BEGIN
    FOR g IN
        SELECT DISTINCT a.grantee
        FROM pg_class AS c, aclexplode(c.relacl) AS a
        WHERE c.oid = 'audit_events'::regclass
          AND a.grantee <> c.relowner
          AND a.privilege_type IN ('UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER')
    LOOP
        EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON audit_events FROM %s',
            CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE g.grantee::regrole::text END);
    END LOOP;
END
$$;
