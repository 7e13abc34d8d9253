package forms

import (
	"regexp"
	"slices"
	"strings"
)

// The question pages of raising an enhancement request, one struct per page. Each has a Check that
// tidies what was typed (surrounding spaces; Windows line ends, so that a browser's count of characters
// and ours agree) and then validates it, including the rules a tag cannot say: the SR number's
// characters, choices from lists that live in the database, and a reason required only when urgent.

// srNumber is what a Service Desk SR number may hold: letters, digits and hyphens, e.g. SR-1234567.
var srNumber = regexp.MustCompile(`^[A-Za-z0-9-]+$`)

// RaiseTitle is the first page: the Service Desk reference and the request's title.
type RaiseTitle struct {
	SRNumber string `form:"sr_number" label:"the Service Desk SR number" validate:"required,max=30" errors:"required=Enter the Service Desk SR number;max=Service Desk SR number must be 30 characters or fewer"`
	Title    string `form:"title" label:"a title for your request" validate:"required,max=120" errors:"required=Enter a title for your request;max=Title must be 120 characters or fewer"`
}

// Check tidies and validates the page.
func (f *RaiseTitle) Check(v *Validator) Errors {
	f.SRNumber, f.Title = tidy(f.SRNumber), tidy(f.Title)
	errs := v.Check(f)
	if errs.Get("sr_number") == "" && !srNumber.MatchString(f.SRNumber) {
		// The SR number is the page's first field, so its error goes first.
		errs = append(Errors{{Field: "sr_number", Message: "Service Desk SR number must only include letters, numbers and hyphens, like SR-1234567"}}, errs...)
	}
	return errs
}

// RaiseDetails is the second page: the functional area, the problem today and the change wanted.
type RaiseDetails struct {
	FunctionalArea string `form:"functional_area" validate:"required" errors:"required=Select the functional area"`
	Problem        string `form:"problem" validate:"required,max=5000" errors:"required=Describe the problem today;max=The problem today must be 5000 characters or fewer"`
	Proposal       string `form:"proposal" validate:"required,max=5000" errors:"required=Describe what you want to change;max=What you want to change must be 5000 characters or fewer"`
}

// Check tidies and validates the page; areas are the functional areas to choose from.
func (f *RaiseDetails) Check(v *Validator, areas []string) Errors {
	f.FunctionalArea, f.Problem, f.Proposal = tidy(f.FunctionalArea), tidy(f.Problem), tidy(f.Proposal)
	errs := v.Check(f)
	if errs.Get("functional_area") == "" && !slices.Contains(areas, f.FunctionalArea) {
		errs = append(Errors{{Field: "functional_area", Message: "Select the functional area from the list"}}, errs...)
	}
	return errs
}

// RaiseAffected is the third page: who the change would affect.
type RaiseAffected struct {
	AffectedUsers  []string `form:"affected_users" validate:"required,min=1" errors:"required=Select who is affected;min=Select who is affected"`
	AffectedDetail string   `form:"affected_detail" validate:"max=2000" errors:"max=What you tell us about who is affected must be 2000 characters or fewer"`
}

// Check tidies and validates the page; groups are the values of the groups of users to choose from.
func (f *RaiseAffected) Check(v *Validator, groups []string) Errors {
	f.AffectedDetail = tidy(f.AffectedDetail)
	errs := v.Check(f)
	if errs.Get("affected_users") == "" {
		for _, g := range f.AffectedUsers {
			if !slices.Contains(groups, g) {
				errs = append(Errors{{Field: "affected_users", Message: "Select who is affected from the list"}}, errs...)
				break
			}
		}
	}
	return errs
}

// RaiseUrgency is the last question page: how urgent the change is, and why when it is critical or high.
type RaiseUrgency struct {
	Urgency       string `form:"urgency" validate:"required" errors:"required=Select how urgent it is"`
	UrgencyReason string `form:"urgency_reason" validate:"max=2000" errors:"max=Why it is urgent must be 2000 characters or fewer"`
}

// UrgentLevels are the urgencies that need a reason.
var UrgentLevels = []string{"critical", "high"}

// Check tidies and validates the page; levels are the urgencies to choose from.
func (f *RaiseUrgency) Check(v *Validator, levels []string) Errors {
	f.UrgencyReason = tidy(f.UrgencyReason)
	errs := v.Check(f)
	if errs.Get("urgency") == "" && !slices.Contains(levels, f.Urgency) {
		errs = append(Errors{{Field: "urgency", Message: "Select how urgent it is from the list"}}, errs...)
	}
	if slices.Contains(UrgentLevels, f.Urgency) && f.UrgencyReason == "" {
		errs.Add("urgency_reason", "Explain why it is urgent")
	}
	return errs
}

// tidy removes surrounding white space and turns Windows line ends into plain ones.
func tidy(s string) string {
	return strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
}
