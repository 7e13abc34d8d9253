package database

import (
	"fmt"
	"regexp"
	"strings"
)

// The portal uses two database roles. The owner role owns the schema and runs the migrations. The
// runtime role serves: it reads and writes rows but owns nothing, so it can neither alter a table nor
// disable a trigger, and on the append-only tables it may only add and read rows.

// AppendOnlyTables are the tables the runtime role may only INSERT into and SELECT from: the audit
// trail and the checkpoints that seal its head.
var AppendOnlyTables = []string{"audit_events", "audit_checkpoints"}

var roleName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// RuntimeGrants returns the SQL, run by a superuser or the owner in the portal's database, that gives
// the runtime role what serving needs: the right to use the schema; SELECT, INSERT, UPDATE and DELETE
// on every table and the use of every sequence the owner has made or will make (default privileges);
// and, on the append-only tables that exist, nothing beyond INSERT and SELECT. It is idempotent. The
// README gives the same statements for a server the portal does not run.
func RuntimeGrants(owner, runtime string) (string, error) {
	if !roleName.MatchString(owner) || !roleName.MatchString(runtime) {
		return "", fmt.Errorf("role names %q and %q must be lower-case letters, digits and underscores", owner, runtime)
	}
	if owner == runtime {
		return "", fmt.Errorf("the runtime role must not be the owner role %q", owner)
	}
	o, r := `"`+owner+`"`, `"`+runtime+`"`
	tables := "'" + strings.Join(AppendOnlyTables, "', '") + "'"
	return `GRANT USAGE ON SCHEMA public TO ` + r + `;
ALTER DEFAULT PRIVILEGES FOR ROLE ` + o + ` IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ` + r + `;
ALTER DEFAULT PRIVILEGES FOR ROLE ` + o + ` IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO ` + r + `;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ` + r + `;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ` + r + `;
DO $grants$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY[` + tables + `] LOOP
        IF to_regclass(format('public.%I', t)) IS NOT NULL THEN
            EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON public.%I FROM ` + r + `', t);
        END IF;
    END LOOP;
END
$grants$;`, nil
}
