package forms

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Assessment is the development team's impact assessment form. Action is the button pressed: "save"
// keeps a draft, "complete" completes the assessment.
type Assessment struct {
	Version        int      `form:"version"`
	EffortSize     string   `form:"effort_size" validate:"omitempty,oneof=S M L XL" errors:"oneof=Select the effort size from the list"`
	EffortDays     string   `form:"effort_days"`
	Modules        []string `form:"modules"`
	Interfaces     string   `form:"interfaces" validate:"max=5000" errors:"max=Interfaces affected must be 5000 characters or fewer"`
	Risks          string   `form:"risks" validate:"max=5000" errors:"max=Risks must be 5000 characters or fewer"`
	Dependencies   string   `form:"dependencies" validate:"max=5000" errors:"max=Dependencies must be 5000 characters or fewer"`
	Cost           string   `form:"cost"`
	Recommendation string   `form:"recommendation" validate:"omitempty,oneof=approve defer not_approve" errors:"oneof=Select your recommendation from the list"`
	Notes          string   `form:"notes" validate:"max=5000" errors:"max=Notes must be 5000 characters or fewer"`
	Action         string   `form:"action"`
}

// Completing reports whether the user pressed "Complete assessment".
func (f *Assessment) Completing() bool { return f.Action == "complete" }

// assessmentFields are the form's fields in page order, the order its errors are listed in.
var assessmentFields = []string{"effort_size", "effort_days", "modules", "interfaces", "risks", "dependencies", "cost", "recommendation", "notes"}

// Check tidies and validates the form; areas are the ESR modules (functional areas) to choose from.
// Completing needs the effort size, the risks and a recommendation; a draft needs nothing.
func (f *Assessment) Check(v *Validator, areas []string) Errors {
	f.EffortSize, f.EffortDays, f.Cost, f.Recommendation = tidy(f.EffortSize), tidy(f.EffortDays), tidy(f.Cost), tidy(f.Recommendation)
	f.Interfaces, f.Risks, f.Dependencies, f.Notes = tidy(f.Interfaces), tidy(f.Risks), tidy(f.Dependencies), tidy(f.Notes)
	found := map[string]string{}
	for _, e := range v.Check(f) {
		found[e.Field] = e.Message
	}
	add := func(field, message string) {
		if found[field] == "" {
			found[field] = message
		}
	}
	if f.EffortDays != "" {
		if _, ok := Days(f.EffortDays); !ok {
			if strings.HasPrefix(f.EffortDays, "-") {
				add("effort_days", "Effort in days must be 0 or more")
			} else {
				add("effort_days", "Enter the effort in days as a number with at most one decimal place, like 15 or 12.5")
			}
		}
	}
	for _, m := range f.Modules {
		if !slices.Contains(areas, m) {
			add("modules", "Select the ESR modules from the list")
		}
	}
	if f.Cost != "" {
		if _, ok := Pence(f.Cost); !ok {
			add("cost", "Enter the cost in pounds, like 12,500 or 12500.50")
		}
	}
	if f.Completing() {
		if f.EffortSize == "" {
			add("effort_size", "Select the effort size")
		}
		if f.Risks == "" {
			add("risks", "Describe the risks")
		}
		if f.Recommendation == "" {
			add("recommendation", "Select your recommendation")
		}
	}
	var out Errors
	for _, field := range assessmentFields {
		if msg := found[field]; msg != "" {
			out.Add(field, msg)
		}
	}
	return out
}

// days is a number of days with at most one decimal place.
var days = regexp.MustCompile(`^\d{1,5}(\.\d)?$`)

// Days parses an effort in days, like "15" or "12.5" (0 to 99999.9).
func Days(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if !days.MatchString(s) {
		return 0, false
	}
	d, err := strconv.ParseFloat(s, 64)
	return d, err == nil
}

// pounds is an amount of money in pounds: digits, optionally grouped in threes with commas, and
// optionally pence after a point; a leading £ is allowed.
var pounds = regexp.MustCompile(`^£?\s*(\d{1,3}(,\d{3})+|\d+)(\.(\d{1,2}))?$`)

// Pence parses an amount in pounds, like "12,500", "£12500.50" or "99.5", into pence. It refuses
// anything else, and amounts of £10,000,000,000 or more.
func Pence(s string) (int64, bool) {
	m := pounds.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, false
	}
	whole := strings.ReplaceAll(m[1], ",", "")
	if len(strings.TrimLeft(whole, "0")) > 10 {
		return 0, false
	}
	p, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, false
	}
	frac := m[4]
	for len(frac) < 2 {
		frac += "0"
	}
	pence, err := strconv.ParseInt(frac, 10, 64)
	if err != nil {
		return 0, false
	}
	return p*100 + pence, true
}

// AssignAssessor is the form that sets who assesses a request. From is the assessor the page showed,
// so that a change made since is a conflict rather than an overwrite. Back is where to return: "request"
// for the request page, else the assessment page.
type AssignAssessor struct {
	From       string `form:"from" validate:"omitempty,numeric"`
	AssessorID string `form:"assessor_id" validate:"omitempty,numeric" errors:"numeric=Select a member of the development team"`
	Back       string `form:"back" validate:"omitempty,oneof=request assessment"`
}
