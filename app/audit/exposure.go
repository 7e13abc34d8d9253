package audit

import (
	"context"
	"fmt"
	"strings"

	"github.com/uptrace/bun"
)

// Exposure lists what the role connected to db could do to the audit trail that the portal's runtime
// role must not: be a superuser (who can switch triggers off), own the trail's tables or act as their
// owner (who can disable their triggers, or drop them), or hold UPDATE, DELETE or TRUNCATE on them. It is
// empty for a runtime role set up as the README says; the portal warns at start when it is not.
func Exposure(ctx context.Context, db bun.IDB) ([]string, error) {
	var rows []struct {
		Role       string   `bun:"role"`
		Super      bool     `bun:"super"`
		Table      string   `bun:"tbl"`
		Owner      string   `bun:"owner"`
		ActsAs     bool     `bun:"acts_as_owner"`
		Privileges []string `bun:"privileges,array"`
	}
	err := db.NewRaw(`SELECT current_user AS role, r.rolsuper AS super, c.relname AS tbl,
			pg_get_userbyid(c.relowner) AS owner, pg_has_role(c.relowner, 'MEMBER') AS acts_as_owner,
			ARRAY(SELECT p FROM unnest(ARRAY['UPDATE', 'DELETE', 'TRUNCATE']) AS p WHERE has_table_privilege(c.oid, p)) AS privileges
		FROM pg_roles AS r, pg_class AS c
		WHERE r.rolname = current_user AND c.oid IN (to_regclass('audit_events'), to_regclass('audit_checkpoints'))
		ORDER BY c.relname`).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("read the database role's privileges on the audit trail: %w", err)
	}
	var out []string
	for i, r := range rows {
		if i == 0 && r.Super {
			out = append(out, fmt.Sprintf("the database role %s is a superuser, so it can switch the audit trail's triggers off", r.Role))
		}
		if r.Super {
			continue
		}
		if r.ActsAs {
			out = append(out, fmt.Sprintf("the database role %s owns %s (or acts as its owner %s), so it can disable its triggers", r.Role, r.Table, r.Owner))
		} else if len(r.Privileges) > 0 {
			out = append(out, fmt.Sprintf("the database role %s may %s %s", r.Role, strings.Join(r.Privileges, ", "), r.Table))
		}
	}
	return out, nil
}
