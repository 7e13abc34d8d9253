package forms

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/nhs-esr/portal/app/catalogue"
)

// The single-page forms that ask for an addition to a national reference list. Each carries its
// submission token (the same form sent twice raises one request) through the check page, and its
// Check applies the rules a tag cannot say: the input-level rule, the competence label rules.

// SupplementaryRoleRequest asks for a new supplementary role.
type SupplementaryRoleRequest struct {
	Token         string `form:"token" validate:"required,uuid" errors:"required=The form has expired: start again;uuid=The form has expired: start again"`
	RoleName      string `form:"role_name" validate:"required,max=100" errors:"required=Enter the name of the role;max=The role name must be 100 characters or fewer"`
	Duties        string `form:"duties" validate:"required,max=2000" errors:"required=Describe the duties of the role;max=The duties must be 2000 characters or fewer"`
	InputLevel    string `form:"input_level" validate:"required" errors:"required=Select who records the role in ESR"`
	Wellbeing     string `form:"wellbeing" validate:"required,oneof=yes no" errors:"required=Select whether the role is linked to the wellbeing agenda;oneof=Select whether the role is linked to the wellbeing agenda"`
	Justification string `form:"justification" validate:"required,max=5000" errors:"required=Enter the justification for the role;max=The justification must be 5000 characters or fewer"`
	Benefits      string `form:"benefits" validate:"required,max=5000" errors:"required=Enter the benefits of recording the role;max=The benefits must be 5000 characters or fewer"`
	Organisations string `form:"organisations" validate:"required,max=2000" errors:"required=Say which organisations expect to use the role;max=The organisations must be 2000 characters or fewer"`
}

// Check tidies and validates the form, the input-level rule included: employee input only for roles
// linked to the wellbeing agenda.
func (f *SupplementaryRoleRequest) Check(v *Validator) Errors {
	f.RoleName, f.Duties, f.Justification = tidy(f.RoleName), tidy(f.Duties), tidy(f.Justification)
	f.Benefits, f.Organisations = tidy(f.Benefits), tidy(f.Organisations)
	errs := v.Check(f)
	if errs.Get("input_level") == "" && errs.Get("wellbeing") == "" {
		if msg := catalogue.CheckInputLevel(f.InputLevel, f.IsWellbeing()); msg != "" {
			errs.Add("input_level", msg)
		}
	}
	return inFieldOrder(errs, "token", "role_name", "duties", "input_level", "wellbeing", "justification", "benefits", "organisations")
}

// IsWellbeing is the wellbeing answer as a yes or no.
func (f *SupplementaryRoleRequest) IsWellbeing() bool { return f.Wellbeing == "yes" }

// NationalCompetencyRequest asks for a new competence on the NHS MAND/CSTF list.
type NationalCompetencyRequest struct {
	Token              string `form:"token" validate:"required,uuid" errors:"required=The form has expired: start again;uuid=The form has expired: start again"`
	CompetenceName     string `form:"competence_name" validate:"required" errors:"required=Enter the proposed competence name"`
	Framework          string `form:"framework" validate:"required,oneof=CSTF MAND" errors:"required=Select the framework;oneof=Select the framework"`
	RenewalYears       string `form:"renewal_years" validate:"required" errors:"required=Enter the renewal period in years"`
	NationalLearning   string `form:"national_learning" validate:"max=500" errors:"max=The national learning must be 500 characters or fewer"`
	NationalInitiative string `form:"national_initiative" validate:"max=500" errors:"max=The national initiative must be 500 characters or fewer"`
	StaffGroups        string `form:"staff_groups" validate:"required,max=2000" errors:"required=Enter the staff groups who must complete it;max=The staff groups must be 2000 characters or fewer"`
	Justification      string `form:"justification" validate:"required,max=5000" errors:"required=Enter the justification for the competence;max=The justification must be 5000 characters or fewer"`
}

// Check tidies and validates the form: the name makes a well-formed ESR label (no vertical bar), the
// renewal period is a whole number of years in range, and it links to national learning or a national
// initiative. Whether the label is already on the list is the caller's to check.
func (f *NationalCompetencyRequest) Check(v *Validator) Errors {
	f.CompetenceName, f.RenewalYears = tidy(f.CompetenceName), tidy(f.RenewalYears)
	f.NationalLearning, f.NationalInitiative = tidy(f.NationalLearning), tidy(f.NationalInitiative)
	f.StaffGroups, f.Justification = tidy(f.StaffGroups), tidy(f.Justification)
	errs := v.Check(f)
	if errs.Get("competence_name") == "" {
		if msg := catalogue.NameProblem(f.CompetenceName); msg != "" {
			errs.Add("competence_name", msg)
		}
	}
	if errs.Get("renewal_years") == "" {
		if n, err := strconv.Atoi(f.RenewalYears); err != nil {
			errs.Add("renewal_years", "The renewal period must be a whole number of years, like 3")
		} else if n < catalogue.MinRenewalYears || n > catalogue.MaxRenewalYears {
			errs.Add("renewal_years", fmt.Sprintf("The renewal period must be between %d and %d years", catalogue.MinRenewalYears, catalogue.MaxRenewalYears))
		}
	}
	if f.NationalLearning == "" && f.NationalInitiative == "" {
		errs.Add("national_learning", "Enter the national learning or the national initiative it links to: at least one is required")
	}
	if !errs.Any() {
		if msg := catalogue.LabelProblem(f.Label()); msg != "" {
			errs.Add("competence_name", msg)
		}
	}
	return inFieldOrder(errs, "token", "competence_name", "framework", "renewal_years", "national_learning", "national_initiative", "staff_groups", "justification")
}

// Years is the renewal period; 0 when it is not a number.
func (f *NationalCompetencyRequest) Years() int {
	n, _ := strconv.Atoi(f.RenewalYears)
	return n
}

// Label is the ESR label the competence will have, e.g. NHS|MAND|Name - 3 Years|; "" until the name,
// framework and renewal period are valid.
func (f *NationalCompetencyRequest) Label() string {
	if catalogue.NameProblem(f.CompetenceName) != "" || (f.Framework != "CSTF" && f.Framework != "MAND") ||
		f.Years() < catalogue.MinRenewalYears || f.Years() > catalogue.MaxRenewalYears {
		return ""
	}
	return catalogue.Label(f.Framework, f.CompetenceName, f.Years())
}

// inFieldOrder orders errors as the page orders its fields, so that the error summary reads top to
// bottom whichever check found them.
func inFieldOrder(errs Errors, fields ...string) Errors {
	rank := func(field string) int {
		if i := slices.Index(fields, field); i >= 0 {
			return i
		}
		return len(fields)
	}
	slices.SortStableFunc(errs, func(a, b FieldError) int { return rank(a.Field) - rank(b.Field) })
	return errs
}
