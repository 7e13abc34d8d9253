package catalogue_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nhs-esr/portal/app/catalogue"
	"github.com/nhs-esr/portal/app/database/dbtest"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

func TestLabel(t *testing.T) {
	cases := []struct {
		framework, name string
		years           int
		want            string
	}{
		{"MAND", "Oliver McGowan Mandatory Training - Tier 1", 3, "NHS|MAND|Oliver McGowan Mandatory Training - Tier 1 - 3 Years|"},
		{"CSTF", "Fire Safety", 2, "NHS|CSTF|Fire Safety - 2 Years|"},
		{"CSTF", "Resuscitation - Level 1", 1, "NHS|CSTF|Resuscitation - Level 1 - 1 Year|"},
		{"MAND", "  Sepsis Awareness  ", 10, "NHS|MAND|Sepsis Awareness - 10 Years|"},
	}
	for _, c := range cases {
		got := catalogue.Label(c.framework, c.name, c.years)
		if got != c.want {
			t.Errorf("Label(%q, %q, %d) = %q, want %q", c.framework, c.name, c.years, got, c.want)
		}
		if p := catalogue.LabelProblem(got); p != "" {
			t.Errorf("the label made for %q is refused: %s", c.name, p)
		}
	}
}

func TestLabelProblem(t *testing.T) {
	cases := []struct {
		label string
		ok    bool
		says  string // part of the message, when refused
	}{
		{"NHS|CSTF|Fire Safety - 2 Years|", true, ""},
		{"NHS|MAND|Oliver McGowan Mandatory Training - Tier 1 - 3 Years|", true, ""},
		{"NHS|CSTF|Information Governance and Data Security - 1 Year|", true, ""},
		{"457|LOCAL|Title - 1 Year|", true, ""},                // a local competence, owned by a VPD code
		{"NHS|CSTF|Fire Safety - 1 Years|", false, "1 Year"},   // "Year" for one
		{"NHS|CSTF|Fire Safety - 2 Year|", false, "2 Years"},   // "Years" otherwise
		{"NHS|CSTF|Fire Safety - 0 Years|", false, "at least"}, // no renewal period
		{"NHS|CSTF|Fire Safety - 01 Year|", false, "leading zero"},
		{"NHS|CSTF|Fire | Safety - 2 Years|", false, "look like"},
		{"NHS|CSTF| - 2 Years|", false, "look like"}, // no name
		{"NHS|CSTF|Fire Safety - 2 Years", false, "look like"},
		{"NHS|CSTF|Fire Safety|", false, "look like"},
		{"NHS|CSTF|Fire Safety 2 Years|", false, "look like"},
		{"NHS|XYZ|Fire Safety - 2 Years|", false, "look like"},
		{"NH|CSTF|Fire Safety - 2 Years|", false, "look like"},
		{"4571|LOCAL|Title - 1 Year|", false, "look like"},
		{"nhs|cstf|Fire Safety - 2 Years|", false, "look like"},
		{"NHS|CSTF|Fire Safety - 2 years|", false, "look like"},
		{"NHS|CSTF|Fire Safety - two Years|", false, "look like"},
		{"", false, "look like"},
		{"NHS|CSTF|Fire Safety - 2 Years|\n", false, "look like"},
	}
	for _, c := range cases {
		got := catalogue.LabelProblem(c.label)
		if c.ok != (got == "") {
			t.Errorf("LabelProblem(%q) = %q, want ok=%v", c.label, got, c.ok)
			continue
		}
		if !c.ok && !strings.Contains(got, c.says) {
			t.Errorf("LabelProblem(%q) = %q, want it to say %q", c.label, got, c.says)
		}
	}
}

func TestNameProblem(t *testing.T) {
	cases := []struct {
		name string
		ok   bool
	}{
		{"Oliver McGowan Mandatory Training - Tier 1", true},
		{"Sepsis Awareness", true},
		{"Ymwybyddiaeth o Sepsis (Cymraeg)", true},
		{"", false},
		{"   ", false},
		{"Fire|Safety", false},
		{"|", false},
		{"Two\nlines", false},
		{strings.Repeat("a", catalogue.MaxNameLength), true},
		{strings.Repeat("a", catalogue.MaxNameLength+1), false},
		{strings.Repeat("ŵ", catalogue.MaxNameLength), true}, // characters, not bytes
	}
	for _, c := range cases {
		if got := catalogue.NameProblem(c.name); c.ok != (got == "") {
			t.Errorf("NameProblem(%q) = %q, want ok=%v", c.name, got, c.ok)
		}
	}
}

func TestCheckInputLevel(t *testing.T) {
	cases := []struct {
		level     string
		wellbeing bool
		ok        bool
	}{
		{catalogue.InputEmployee, true, true},
		{catalogue.InputEmployee, false, false},
		{catalogue.InputManager, false, true},
		{catalogue.InputManager, true, true},
		{catalogue.InputProfessionalUser, false, true},
		{catalogue.InputProfessionalUser, true, true},
		{"", true, false},
		{"Employee", true, false},
	}
	for _, c := range cases {
		got := catalogue.CheckInputLevel(c.level, c.wellbeing)
		if c.ok != (got == "") {
			t.Errorf("CheckInputLevel(%q, %v) = %q, want ok=%v", c.level, c.wellbeing, got, c.ok)
		}
	}
	if got := catalogue.CheckInputLevel(catalogue.InputEmployee, false); got != catalogue.ErrEmployeeInputNeedsWellbeing {
		t.Errorf("the employee refusal says %q", got)
	}
}

func TestListsAreUnique(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t).DB
	now := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	if _, err := catalogue.AddRole(ctx, db, catalogue.Role{Name: "First Aider", InputLevel: "manager", AddedAt: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := catalogue.AddRole(ctx, db, catalogue.Role{Name: " first aider ", InputLevel: "professional_user", AddedAt: now}); !errors.Is(err, catalogue.ErrDuplicate) {
		t.Errorf("a second First Aider: %v", err)
	}
	if _, err := catalogue.AddRole(ctx, db, catalogue.Role{Name: "Wellbeing Buddy", InputLevel: "employee", AddedAt: now}); err == nil {
		t.Error("an employee-input role not linked to wellbeing was added")
	}
	if _, err := catalogue.AddCompetence(ctx, db, catalogue.Competence{Name: "Fire Safety", Framework: "CSTF", RenewalYears: 2, AddedAt: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := catalogue.AddCompetence(ctx, db, catalogue.Competence{Name: "fire safety", Framework: "CSTF", RenewalYears: 2, AddedAt: now}); !errors.Is(err, catalogue.ErrDuplicate) {
		t.Errorf("a second Fire Safety - 2 Years: %v", err)
	}
	// Another renewal period is another competence.
	if _, err := catalogue.AddCompetence(ctx, db, catalogue.Competence{Name: "Fire Safety", Framework: "CSTF", RenewalYears: 1, AddedAt: now}); err != nil {
		t.Errorf("Fire Safety - 1 Year: %v", err)
	}
	if _, err := catalogue.AddCompetence(ctx, db, catalogue.Competence{Name: "Fire|Safety", Framework: "CSTF", RenewalYears: 1, AddedAt: now}); err == nil {
		t.Error("a name with a vertical bar was added")
	}
	exists, err := catalogue.CompetenceExists(ctx, db, "NHS|CSTF|FIRE SAFETY - 2 Years|")
	if err != nil || !exists {
		t.Errorf("CompetenceExists ignores case: %v %v", exists, err)
	}
	found, err := catalogue.Competences(ctx, db, "fire", "CSTF")
	if err != nil || len(found) != 2 || found[0].Label != "NHS|CSTF|Fire Safety - 1 Year|" {
		t.Errorf("search: %+v %v", found, err)
	}
	roles, err := catalogue.Roles(ctx, db, "100%_")
	if err != nil || len(roles) != 0 {
		t.Errorf("search with LIKE characters: %+v %v", roles, err)
	}
}
