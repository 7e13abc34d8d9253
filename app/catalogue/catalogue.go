// Package catalogue holds the national reference lists that supplementary role requests and national
// competency requests maintain: the supplementary roles list and the NHS MAND/CSTF competence list,
// with their rules (who may record a role; what a competence label looks like).
package catalogue

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/database"
)

// Input levels: who records a supplementary role in ESR.
const (
	InputEmployee         = "employee"
	InputManager          = "manager"
	InputProfessionalUser = "professional_user"
)

// InputLevels lists the input levels in the order forms offer them.
var InputLevels = []struct{ Value, Label, Hint string }{
	{InputEmployee, "Employee", "Employees record it themselves in Employee Self Service. Only for roles linked to the wellbeing agenda."},
	{InputManager, "Manager", "Managers or supervisors record it in Manager Self Service."},
	{InputProfessionalUser, "Professional user", "HR or workforce staff record it on the core ESR forms."},
}

// InputLevelLabel is an input level in words.
func InputLevelLabel(code string) string {
	for _, l := range InputLevels {
		if l.Value == code {
			return l.Label
		}
	}
	return code
}

// ErrEmployeeInputNeedsWellbeing is the input-level rule, in the words users read.
const ErrEmployeeInputNeedsWellbeing = "Employee input is only for roles linked to the wellbeing agenda: choose manager or professional user input, or say the role is linked to the wellbeing agenda"

// CheckInputLevel applies ESR-NHS0132's rule: employees may record a supplementary role themselves only
// when it is linked to the wellbeing agenda. It returns the message to show, or "" when the choice is allowed.
func CheckInputLevel(level string, wellbeing bool) string {
	known := false
	for _, l := range InputLevels {
		known = known || l.Value == level
	}
	switch {
	case !known:
		return "Select who records the role from the list"
	case level == InputEmployee && !wellbeing:
		return ErrEmployeeInputNeedsWellbeing
	}
	return ""
}

// Frameworks a national competence belongs to.
var Frameworks = []struct{ Value, Label, Hint string }{
	{"CSTF", "CSTF", "A Core Skills Training Framework subject (statutory and mandatory training)"},
	{"MAND", "NHS MAND", "A national mandatory competence outside the CSTF"},
}

// Renewal periods a competence may have, in years.
const (
	MinRenewalYears = 1
	MaxRenewalYears = 10
)

// MaxNameLength is the longest competence name the list takes.
const MaxNameLength = 150

// labelPattern is ESR's competence label: owner (NHS, or a local organisation's three-digit VPD code),
// framework, name and renewal period.
var labelPattern = regexp.MustCompile(`^(NHS|\d{3})\|(CSTF|MAND|LOCAL)\|[^|]+ - (\d+) Years?\|$`)

// Label is the ESR label of a national competence, e.g. NHS|MAND|Oliver McGowan Mandatory Training -
// Tier 1 - 3 Years|: "Year" when the period is one year.
func Label(framework, name string, years int) string {
	unit := "Years"
	if years == 1 {
		unit = "Year"
	}
	return fmt.Sprintf("NHS|%s|%s - %d %s|", framework, strings.TrimSpace(name), years, unit)
}

// LabelProblem is what is wrong with a competence label, or "" when it is well formed: the format, a
// renewal period of at least one year with "Year" for one and "Years" otherwise.
func LabelProblem(label string) string {
	m := labelPattern.FindStringSubmatch(label)
	if m == nil {
		return "The ESR label must look like NHS|MAND|Name - 3 Years|"
	}
	years, err := strconv.Atoi(m[3])
	if err != nil || years < MinRenewalYears {
		return "The renewal period must be at least 1 year"
	}
	if strings.HasPrefix(m[3], "0") {
		return "The renewal period must be written without a leading zero, like 3 Years"
	}
	if strings.HasSuffix(label, " Years|") != (years != 1) {
		if years == 1 {
			return "The ESR label must say “1 Year”, not “1 Years”"
		}
		return fmt.Sprintf("The ESR label must say “%d Years”, not “%d Year”", years, years)
	}
	return ""
}

// NameProblem is what is wrong with a proposed competence name, or "" when it will make a label.
func NameProblem(name string) string {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "Enter the proposed competence name"
	case strings.Contains(name, "|"):
		return "The competence name must not contain a vertical bar (|): ESR uses it to separate the parts of the label"
	case strings.ContainsAny(name, "\n\r\t"):
		return "The competence name must be on one line"
	case len([]rune(name)) > MaxNameLength:
		return fmt.Sprintf("The competence name must be %d characters or fewer", MaxNameLength)
	}
	return ""
}

// Role is one entry of the supplementary roles list.
type Role struct {
	bun.BaseModel `bun:"table:supplementary_roles,alias:sr"`

	ID         int64     `bun:"id,pk,autoincrement"`
	Name       string    `bun:"name"`
	InputLevel string    `bun:"input_level"`
	Wellbeing  bool      `bun:"wellbeing"`
	Duties     string    `bun:"duties"`
	RequestID  int64     `bun:"request_id,nullzero"`
	AddedAt    time.Time `bun:"added_at"`

	RequestReference string `bun:"request_reference,scanonly"`
}

// Competence is one entry of the NHS MAND/CSTF competence list.
type Competence struct {
	bun.BaseModel `bun:"table:competences,alias:cp"`

	ID           int64     `bun:"id,pk,autoincrement"`
	Label        string    `bun:"label"`
	Name         string    `bun:"name"`
	Framework    string    `bun:"framework"`
	RenewalYears int       `bun:"renewal_years"`
	RequestID    int64     `bun:"request_id,nullzero"`
	AddedAt      time.Time `bun:"added_at"`

	RequestReference string `bun:"request_reference,scanonly"`
}

// RenewalText is the renewal period in words: "1 year", "3 years".
func RenewalText(years int) string {
	if years == 1 {
		return "1 year"
	}
	return strconv.Itoa(years) + " years"
}

// Roles returns the supplementary roles whose name or duties contain query (all when empty), by name.
func Roles(ctx context.Context, db bun.IDB, query string) ([]Role, error) {
	var out []Role
	q := db.NewSelect().Model(&out).ColumnExpr("sr.*").ColumnExpr("COALESCE(r.reference, '') AS request_reference").
		Join("LEFT JOIN requests AS r ON r.id = sr.request_id")
	if query = strings.TrimSpace(query); query != "" {
		like := "%" + escapeLike(query) + "%"
		q = q.Where("(sr.name ILIKE ? OR sr.duties ILIKE ?)", like, like)
	}
	if err := q.OrderExpr("lower(sr.name)").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list supplementary roles: %w", err)
	}
	return out, nil
}

// Competences returns the competences whose label contains query (all when empty), optionally of one
// framework, by label.
func Competences(ctx context.Context, db bun.IDB, query, framework string) ([]Competence, error) {
	var out []Competence
	q := db.NewSelect().Model(&out).ColumnExpr("cp.*").ColumnExpr("COALESCE(r.reference, '') AS request_reference").
		Join("LEFT JOIN requests AS r ON r.id = cp.request_id")
	if query = strings.TrimSpace(query); query != "" {
		q = q.Where("cp.label ILIKE ?", "%"+escapeLike(query)+"%")
	}
	if framework != "" {
		q = q.Where("cp.framework = ?", framework)
	}
	if err := q.OrderExpr("cp.framework, lower(cp.name), cp.renewal_years").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list competences: %w", err)
	}
	return out, nil
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(s)
}

// RoleExists reports whether the list already holds a role of this name (case and surrounding spaces
// aside), and its name as listed.
func RoleExists(ctx context.Context, db bun.IDB, name string) (string, bool, error) {
	var listed []string
	if err := db.NewSelect().Table("supplementary_roles").Column("name").
		Where("lower(name) = lower(?)", strings.TrimSpace(name)).Limit(1).Scan(ctx, &listed); err != nil {
		return "", false, fmt.Errorf("look up supplementary role %q: %w", name, err)
	}
	if len(listed) == 0 {
		return "", false, nil
	}
	return listed[0], true, nil
}

// CompetenceExists reports whether the list already holds a competence with this label (case aside).
func CompetenceExists(ctx context.Context, db bun.IDB, label string) (bool, error) {
	ok, err := db.NewSelect().Table("competences").Where("lower(label) = lower(?)", label).Exists(ctx)
	if err != nil {
		return false, fmt.Errorf("look up competence %q: %w", label, err)
	}
	return ok, nil
}

// ErrDuplicate is returned by AddRole and AddCompetence when the list already holds the entry.
var ErrDuplicate = errors.New("already in the list")

// AddRole adds a role to the supplementary roles list, inside the caller's transaction; requestID is
// the request that asked for it, or 0 for the starting list. A role of the same name is ErrDuplicate.
func AddRole(ctx context.Context, db bun.IDB, r Role) (*Role, error) {
	r.Name = strings.TrimSpace(r.Name)
	if msg := CheckInputLevel(r.InputLevel, r.Wellbeing); msg != "" {
		return nil, fmt.Errorf("add supplementary role %q: %s", r.Name, msg)
	}
	_, err := db.NewInsert().Model(&r).Returning("id").Exec(ctx)
	if database.IsUniqueViolation(err, "supplementary_roles_name_key") {
		return nil, fmt.Errorf("add supplementary role %q: %w", r.Name, ErrDuplicate)
	}
	if err != nil {
		return nil, fmt.Errorf("add supplementary role %q: %w", r.Name, err)
	}
	return &r, nil
}

// AddCompetence adds a competence to the list, inside the caller's transaction, with its label made
// from its framework, name and renewal period. A competence with the same label is ErrDuplicate.
func AddCompetence(ctx context.Context, db bun.IDB, c Competence) (*Competence, error) {
	c.Name = strings.TrimSpace(c.Name)
	if msg := NameProblem(c.Name); msg != "" {
		return nil, fmt.Errorf("add competence %q: %s", c.Name, msg)
	}
	c.Label = Label(c.Framework, c.Name, c.RenewalYears)
	if msg := LabelProblem(c.Label); msg != "" {
		return nil, fmt.Errorf("add competence %q: %s", c.Label, msg)
	}
	_, err := db.NewInsert().Model(&c).Returning("id").Exec(ctx)
	if database.IsUniqueViolation(err, "competences_label_key") {
		return nil, fmt.Errorf("add competence %q: %w", c.Label, ErrDuplicate)
	}
	if err != nil {
		return nil, fmt.Errorf("add competence %q: %w", c.Label, err)
	}
	return &c, nil
}

// InputLevelText is the role's input level in words.
func (r Role) InputLevelText() string { return InputLevelLabel(r.InputLevel) }

// RenewalText is the competence's renewal period in words.
func (c Competence) RenewalText() string { return RenewalText(c.RenewalYears) }
