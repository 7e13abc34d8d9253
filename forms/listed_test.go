package forms

import (
	"strings"
	"testing"
)

const testToken = "6f1c2d3e-4a5b-4c6d-8e7f-0123456789ab"

func validRole() SupplementaryRoleRequest {
	return SupplementaryRoleRequest{Token: testToken, RoleName: "Menopause Champion", Duties: "Signposts support",
		InputLevel: "employee", Wellbeing: "yes", Justification: "National guidance", Benefits: "Reporting", Organisations: "Most trusts"}
}

// TestSupplementaryRoleInputLevelRule: employee input only for roles linked to the wellbeing agenda.
func TestSupplementaryRoleInputLevelRule(t *testing.T) {
	v := NewValidator()
	cases := []struct {
		level, wellbeing string
		field            string // the field in error; "" when valid
		says             string
	}{
		{"employee", "yes", "", ""},
		{"employee", "no", "input_level", "only for roles linked to the wellbeing agenda"},
		{"manager", "no", "", ""},
		{"manager", "yes", "", ""},
		{"professional_user", "no", "", ""},
		{"professional_user", "yes", "", ""},
		{"", "no", "input_level", "Select who records the role"},
		{"employee", "", "wellbeing", "Select whether the role is linked"},
		{"employee", "maybe", "wellbeing", "Select whether the role is linked"},
		{"supervisor", "yes", "input_level", "from the list"},
	}
	for _, c := range cases {
		f := validRole()
		f.InputLevel, f.Wellbeing = c.level, c.wellbeing
		errs := f.Check(v)
		switch {
		case c.field == "" && errs.Any():
			t.Errorf("%s/%s: refused: %v", c.level, c.wellbeing, errs)
		case c.field != "" && !strings.Contains(errs.Get(c.field), c.says):
			t.Errorf("%s/%s: errors %v, want %s to say %q", c.level, c.wellbeing, errs, c.field, c.says)
		}
	}
}

func TestSupplementaryRoleErrorsInPageOrder(t *testing.T) {
	f := SupplementaryRoleRequest{Token: testToken, RoleName: "  ", InputLevel: "employee", Wellbeing: "no"}
	errs := f.Check(NewValidator())
	var fields []string
	for _, e := range errs {
		fields = append(fields, e.Field)
	}
	want := "role_name,duties,input_level,justification,benefits,organisations"
	if strings.Join(fields, ",") != want {
		t.Errorf("errors in the order %v, want %s", fields, want)
	}
}

func validCompetence() NationalCompetencyRequest {
	return NationalCompetencyRequest{Token: testToken, CompetenceName: "Oliver McGowan Mandatory Training - Tier 1", Framework: "MAND",
		RenewalYears: "3", NationalInitiative: "Health and Care Act 2022", StaffGroups: "All staff", Justification: "Statutory"}
}

func TestNationalCompetencyForm(t *testing.T) {
	v := NewValidator()
	cases := []struct {
		name   string
		change func(f *NationalCompetencyRequest)
		field  string
		label  string // the label when valid
	}{
		{"valid", func(*NationalCompetencyRequest) {}, "", "NHS|MAND|Oliver McGowan Mandatory Training - Tier 1 - 3 Years|"},
		{"one year", func(f *NationalCompetencyRequest) { f.RenewalYears = "1" }, "", "NHS|MAND|Oliver McGowan Mandatory Training - Tier 1 - 1 Year|"},
		{"ten years", func(f *NationalCompetencyRequest) { f.RenewalYears = " 10 " }, "", "NHS|MAND|Oliver McGowan Mandatory Training - Tier 1 - 10 Years|"},
		{"CSTF", func(f *NationalCompetencyRequest) { f.Framework, f.CompetenceName = "CSTF", " Fire Safety " }, "", "NHS|CSTF|Fire Safety - 3 Years|"},
		{"learning only", func(f *NationalCompetencyRequest) { f.NationalInitiative, f.NationalLearning = "", "e-LfH course 123" }, "", "NHS|MAND|Oliver McGowan Mandatory Training - Tier 1 - 3 Years|"},
		{"neither learning nor initiative", func(f *NationalCompetencyRequest) { f.NationalInitiative = "  " }, "national_learning", ""},
		{"vertical bar", func(f *NationalCompetencyRequest) { f.CompetenceName = "Tier 1 | Autism" }, "competence_name", ""},
		{"no name", func(f *NationalCompetencyRequest) { f.CompetenceName = "" }, "competence_name", ""},
		{"too long", func(f *NationalCompetencyRequest) { f.CompetenceName = strings.Repeat("x", 151) }, "competence_name", ""},
		{"zero years", func(f *NationalCompetencyRequest) { f.RenewalYears = "0" }, "renewal_years", ""},
		{"eleven years", func(f *NationalCompetencyRequest) { f.RenewalYears = "11" }, "renewal_years", ""},
		{"not a number", func(f *NationalCompetencyRequest) { f.RenewalYears = "three" }, "renewal_years", ""},
		{"a fraction", func(f *NationalCompetencyRequest) { f.RenewalYears = "1.5" }, "renewal_years", ""},
		{"local framework", func(f *NationalCompetencyRequest) { f.Framework = "LOCAL" }, "framework", ""},
		{"no framework", func(f *NationalCompetencyRequest) { f.Framework = "" }, "framework", ""},
		{"no token", func(f *NationalCompetencyRequest) { f.Token = "" }, "token", ""},
	}
	for _, c := range cases {
		f := validCompetence()
		c.change(&f)
		errs := f.Check(v)
		if c.field == "" {
			if errs.Any() {
				t.Errorf("%s: refused: %v", c.name, errs)
			}
			if got := f.Label(); got != c.label {
				t.Errorf("%s: label %q, want %q", c.name, got, c.label)
			}
			continue
		}
		if errs.Get(c.field) == "" {
			t.Errorf("%s: errors %v, want one on %s", c.name, errs, c.field)
		}
		if f.Label() != "" && c.field != "national_learning" && c.field != "token" {
			t.Errorf("%s: an invalid form makes the label %q", c.name, f.Label())
		}
	}
}
