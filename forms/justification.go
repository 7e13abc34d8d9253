package forms

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The business justification's section pages, one struct per page. Each carries the version of the
// justification the page was made from. Check tidies what was typed and validates it, including what
// a tag cannot say: amounts of money, numbers, dates, choices from lists that live elsewhere, and
// answers needed only after another answer.

// JustificationAbout is the "About the request" section.
type JustificationAbout struct {
	Version        int    `form:"version"`
	SRNumber       string `form:"sr_number" validate:"required,max=30" errors:"required=Enter the Service Desk SR number;max=Service Desk SR number must be 30 characters or fewer"`
	RequesterName  string `form:"requester_name" validate:"required,max=120" errors:"required=Enter the requester's name;max=The requester's name must be 120 characters or fewer"`
	RequesterRole  string `form:"requester_role" validate:"required,max=120" errors:"required=Enter the requester's role;max=The requester's role must be 120 characters or fewer"`
	RequesterEmail string `form:"requester_email" validate:"required,email,max=254" errors:"required=Enter the requester's email address;max=The email address must be 254 characters or fewer"`
	LeadNSIG       string `form:"lead_nsig" validate:"required" errors:"required=Select the lead NSIG"`
}

// Check tidies and validates the section; nsigs are the NSIGs to choose from.
func (f *JustificationAbout) Check(v *Validator, nsigs []string) Errors {
	f.SRNumber, f.RequesterName, f.RequesterRole = strings.ToUpper(tidy(f.SRNumber)), tidy(f.RequesterName), tidy(f.RequesterRole)
	f.RequesterEmail, f.LeadNSIG = tidy(f.RequesterEmail), tidy(f.LeadNSIG)
	errs := v.Check(f)
	if errs.Get("sr_number") == "" && !srNumber.MatchString(f.SRNumber) {
		errs.Add("sr_number", "Service Desk SR number must only include letters, numbers and hyphens, like SR-1234567")
	}
	if errs.Get("lead_nsig") == "" && !slices.Contains(nsigs, f.LeadNSIG) {
		errs.Add("lead_nsig", "Select the lead NSIG from the list")
	}
	return inOrder(errs, "sr_number", "requester_name", "requester_role", "requester_email", "lead_nsig")
}

// JustificationRequirement is "The requirement" section.
type JustificationRequirement struct {
	Version        int      `form:"version"`
	Title          string   `form:"title" validate:"required,max=120" errors:"required=Enter a title;max=Title must be 120 characters or fewer"`
	FunctionalArea string   `form:"functional_area" validate:"required" errors:"required=Select the functional area"`
	Problem        string   `form:"problem" validate:"required,max=5000" errors:"required=Describe the problem or current process;max=The problem or current process must be 5000 characters or fewer"`
	Proposal       string   `form:"proposal" validate:"required,max=5000" errors:"required=Describe the proposed change;max=The proposed change must be 5000 characters or fewer"`
	AffectedUsers  []string `form:"affected_users" validate:"required,min=1" errors:"required=Select the users affected;min=Select the users affected"`
}

// Check tidies and validates the section; areas and groups are the functional areas and groups of
// users to choose from.
func (f *JustificationRequirement) Check(v *Validator, areas, groups []string) Errors {
	f.Title, f.FunctionalArea, f.Problem, f.Proposal = tidy(f.Title), tidy(f.FunctionalArea), tidy(f.Problem), tidy(f.Proposal)
	errs := v.Check(f)
	if errs.Get("functional_area") == "" && !slices.Contains(areas, f.FunctionalArea) {
		errs.Add("functional_area", "Select the functional area from the list")
	}
	for _, g := range f.AffectedUsers {
		if !slices.Contains(groups, g) {
			errs.Add("affected_users", "Select the users affected from the list")
		}
	}
	return inOrder(errs, "title", "functional_area", "problem", "proposal", "affected_users")
}

// JustificationStrategicFit is the "Strategic fit" section.
type JustificationStrategicFit struct {
	Version              int    `form:"version"`
	Policy               string `form:"policy" validate:"required,max=2000" errors:"required=Enter the national policy or initiative it supports, or say there is none;max=The national policy or initiative must be 2000 characters or fewer"`
	Legislative          string `form:"legislative" validate:"required,oneof=yes no" errors:"required=Select yes if the change is legislative or mandatory;oneof=Select yes if the change is legislative or mandatory"`
	LegislativeReference string `form:"legislative_reference" validate:"max=500" errors:"max=The legislation or mandate must be 500 characters or fewer"`
}

// Check tidies and validates the section.
func (f *JustificationStrategicFit) Check(v *Validator) Errors {
	f.Policy, f.LegislativeReference = tidy(f.Policy), tidy(f.LegislativeReference)
	errs := v.Check(f)
	if f.Legislative == "yes" && f.LegislativeReference == "" {
		errs.Add("legislative_reference", "Enter the legislation or mandate, like the Health and Care Act 2022")
	}
	if f.Legislative == "no" {
		f.LegislativeReference = ""
	}
	return errs
}

// Limits on the benefits.
const (
	maxSavingsPence = 100_000_000_000 // £1,000,000,000 a year
	maxHours        = 100_000
)

// JustificationBenefits is the "Benefits" section. The amounts are kept as typed, so that a mistake
// is shown back as it was; SavingsPence, HoursPerMonth and Organisations read them once Check passes.
type JustificationBenefits struct {
	Version         int    `form:"version"`
	Savings         string `form:"savings"`
	Hours           string `form:"hours"`
	Organisations   string `form:"organisations"`
	QualityBenefits string `form:"quality_benefits" validate:"required,max=2000" errors:"required=Describe the quality, safety and experience benefits;max=The quality, safety and experience benefits must be 2000 characters or fewer"`
	Baseline        string `form:"baseline" validate:"required,max=1000" errors:"required=Enter the baseline the benefits will be measured from;max=The baseline must be 1000 characters or fewer"`
	Target          string `form:"target" validate:"required,max=1000" errors:"required=Enter the target the benefits will be measured against;max=The target must be 1000 characters or fewer"`
}

// Check tidies and validates the section.
func (f *JustificationBenefits) Check(v *Validator) Errors {
	f.Savings, f.Hours, f.Organisations = tidy(f.Savings), tidy(f.Hours), tidy(f.Organisations)
	f.QualityBenefits, f.Baseline, f.Target = tidy(f.QualityBenefits), tidy(f.Baseline), tidy(f.Target)
	errs := v.Check(f)
	switch pence, ok := ParseMoney(f.Savings); {
	case f.Savings == "":
		errs.Add("savings", "Enter the cashable savings a year in pounds, or 0 if there are none")
	case !ok:
		errs.Add("savings", "Cashable savings must be an amount in pounds, like 12,500 or 12500.50")
	case pence > maxSavingsPence:
		errs.Add("savings", "Cashable savings must be £1,000,000,000 or less")
	}
	switch hours, ok := ParseNumber(f.Hours); {
	case f.Hours == "":
		errs.Add("hours", "Enter the staff hours saved a month in each organisation, or 0 if there are none")
	case !ok:
		errs.Add("hours", "Staff hours saved must be a number, like 7.5")
	case hours > maxHours:
		errs.Add("hours", "Staff hours saved must be 100,000 or fewer")
	}
	switch n, err := strconv.Atoi(f.Organisations); {
	case f.Organisations == "":
		errs.Add("organisations", "Enter how many organisations would benefit")
	case err != nil || n < 1 || n > 600:
		errs.Add("organisations", "The number of organisations must be a whole number from 1 to 600")
	}
	return inOrder(errs, "savings", "hours", "organisations", "quality_benefits", "baseline", "target")
}

// SavingsPence is the cashable savings a year, in pence, once Check has passed.
func (f *JustificationBenefits) SavingsPence() int64 { p, _ := ParseMoney(f.Savings); return p }

// HoursPerMonth is the staff hours saved a month per organisation, once Check has passed.
func (f *JustificationBenefits) HoursPerMonth() float64 { h, _ := ParseNumber(f.Hours); return h }

// OrganisationCount is the number of organisations that would benefit, once Check has passed.
func (f *JustificationBenefits) OrganisationCount() int {
	n, _ := strconv.Atoi(f.Organisations)
	return n
}

// money is an amount in pounds: whole pounds, with thousands separated by commas or not, and pence
// optional (two digits).
var money = regexp.MustCompile(`^(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{2}))?$`)

// ParseMoney reads an amount in pounds, like "12,500", "£12500.50" or "0", as pence.
func ParseMoney(s string) (int64, bool) {
	s = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "£"))
	m := money.FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	digits := strings.ReplaceAll(m[1], ",", "")
	if len(digits) > 15 {
		return 0, false
	}
	pounds, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return 0, false
	}
	pence := int64(0)
	if m[2] != "" {
		pence, _ = strconv.ParseInt(m[2], 10, 64)
	}
	return pounds*100 + pence, true
}

// FormatMoney writes pence as pounds the way ParseMoney reads them: "12,500" or "12,500.50".
func FormatMoney(pence int64) string {
	s := groupThousands(strconv.FormatInt(pence/100, 10))
	if p := pence % 100; p != 0 {
		s += fmt.Sprintf(".%02d", p)
	}
	return s
}

// number is a number that is not negative, with thousands separated by commas or not, and up to two
// decimal places.
var number = regexp.MustCompile(`^(\d{1,3}(?:,\d{3})+|\d+)(\.\d{1,2})?$`)

// ParseNumber reads a number like "7.5", "1,200" or "0".
func ParseNumber(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if !number.MatchString(s) || len(s) > 20 {
		return 0, false
	}
	n, err := strconv.ParseFloat(strings.ReplaceAll(s, ",", ""), 64)
	return n, err == nil
}

// FormatNumber writes a number the way ParseNumber reads it.
func FormatNumber(n float64) string {
	whole := int64(n)
	s := groupThousands(strconv.FormatInt(whole, 10))
	if frac := strconv.FormatFloat(n-float64(whole), 'f', 2, 64); frac != "0.00" {
		s += strings.TrimRight(strings.TrimPrefix(frac, "0"), "0")
	}
	return s
}

func groupThousands(digits string) string {
	var b strings.Builder
	for i, d := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(d)
	}
	return b.String()
}

// JustificationDelivery is the "Delivery" section.
type JustificationDelivery struct {
	Version          int    `form:"version"`
	Priority         string `form:"priority" validate:"required" errors:"required=Select the priority"`
	RequiredByDay    string `form:"required_by-day"`
	RequiredByMonth  string `form:"required_by-month"`
	RequiredByYear   string `form:"required_by-year"`
	RequiredByReason string `form:"required_by_reason" validate:"max=2000" errors:"max=Why it is needed by then must be 2000 characters or fewer"`
	Dependencies     string `form:"dependencies" validate:"max=2000" errors:"max=Dependencies must be 2000 characters or fewer"`
	RisksOfDoing     string `form:"risks_of_doing" validate:"required,max=2000" errors:"required=Describe the risks of making the change;max=The risks of making the change must be 2000 characters or fewer"`
	RisksOfNotDoing  string `form:"risks_of_not_doing" validate:"required,max=2000" errors:"required=Describe the risks of not making the change;max=The risks of not making the change must be 2000 characters or fewer"`
	Workaround       string `form:"workaround" validate:"required,max=2000" errors:"required=Describe the workaround in place, or say there is none;max=The workaround must be 2000 characters or fewer"`
}

// Check tidies and validates the section; priorities are the values to choose from and today is the
// date in London.
func (f *JustificationDelivery) Check(v *Validator, priorities []string, today time.Time) Errors {
	f.RequiredByDay, f.RequiredByMonth, f.RequiredByYear = tidy(f.RequiredByDay), tidy(f.RequiredByMonth), tidy(f.RequiredByYear)
	f.RequiredByReason, f.Dependencies = tidy(f.RequiredByReason), tidy(f.Dependencies)
	f.RisksOfDoing, f.RisksOfNotDoing, f.Workaround = tidy(f.RisksOfDoing), tidy(f.RisksOfNotDoing), tidy(f.Workaround)
	errs := v.Check(f)
	if errs.Get("priority") == "" && !slices.Contains(priorities, f.Priority) {
		errs.Add("priority", "Select the priority from the list")
	}
	d, given, ok := ParseDate(f.RequiredByDay, f.RequiredByMonth, f.RequiredByYear)
	switch {
	case !ok:
		errs.Add("required_by-day", "The required-by date must be a real date, like 31 3 2027")
	case given && !d.After(today):
		errs.Add("required_by-day", "The required-by date must be in the future")
	case given && f.RequiredByReason == "":
		errs.Add("required_by_reason", "Explain why it is needed by that date")
	}
	return inOrder(errs, "priority", "required_by-day", "required_by_reason", "dependencies", "risks_of_doing", "risks_of_not_doing", "workaround")
}

// RequiredBy is the required-by date as 2006-01-02, or "" when none was given, once Check has passed.
func (f *JustificationDelivery) RequiredBy() string {
	d, given, ok := ParseDate(f.RequiredByDay, f.RequiredByMonth, f.RequiredByYear)
	if !given || !ok {
		return ""
	}
	return d.Format(time.DateOnly)
}

// JustificationSignOff is the "Sign-off" section.
type JustificationSignOff struct {
	Version int    `form:"version"`
	Name    string `form:"name" validate:"required,max=120" errors:"required=Enter the name of the sponsoring manager or ESR lead;max=The name must be 120 characters or fewer"`
	Role    string `form:"role" validate:"max=120" errors:"max=Their role must be 120 characters or fewer"`
	Day     string `form:"date-day"`
	Month   string `form:"date-month"`
	Year    string `form:"date-year"`
}

// Check tidies and validates the section; today is the date in London.
func (f *JustificationSignOff) Check(v *Validator, today time.Time) Errors {
	f.Name, f.Role, f.Day, f.Month, f.Year = tidy(f.Name), tidy(f.Role), tidy(f.Day), tidy(f.Month), tidy(f.Year)
	errs := v.Check(f)
	d, given, ok := ParseDate(f.Day, f.Month, f.Year)
	switch {
	case !given:
		errs.Add("date-day", "Enter the date it was signed off")
	case !ok:
		errs.Add("date-day", "The sign-off date must be a real date, like 19 11 2026")
	case d.After(today):
		errs.Add("date-day", "The sign-off date must be today or in the past")
	}
	return inOrder(errs, "name", "role", "date-day")
}

// Date is the sign-off date as 2006-01-02, once Check has passed.
func (f *JustificationSignOff) Date() string {
	d, _, _ := ParseDate(f.Day, f.Month, f.Year)
	return d.Format(time.DateOnly)
}

// Endorsement is an endorsement of a business justification on behalf of a region: by its functional
// account manager, or by a holder of one of its NSIG seats for its regional SIG.
type Endorsement struct {
	Region  string `form:"region"`
	Comment string `form:"comment" validate:"required,max=2000" errors:"required=Enter your comment;max=Your comment must be 2000 characters or fewer"`
}

// Check tidies and validates the form; regions are the region ids the endorser may choose, and
// notYours says why any other is refused.
func (f *Endorsement) Check(v *Validator, regions []string, notYours string) Errors {
	f.Region, f.Comment = tidy(f.Region), tidy(f.Comment)
	errs := v.Check(f)
	switch {
	case f.Region == "":
		errs.Add("region", "Select the region whose SIG you are endorsing it for")
	case !slices.Contains(regions, f.Region):
		errs.Add("region", notYours)
	}
	return inOrder(errs, "region", "comment")
}

// RegionID is the chosen region, once Check has passed.
func (f *Endorsement) RegionID() int16 {
	id, _ := strconv.ParseInt(f.Region, 10, 16)
	return int16(id)
}

// ParseDate reads the three boxes of a date input as a date (at midnight UTC). given is false when all
// three are empty; ok is false when they do not make a real date between 2000 and 2100.
func ParseDate(day, month, year string) (t time.Time, given, ok bool) {
	day, month, year = strings.TrimSpace(day), strings.TrimSpace(month), strings.TrimSpace(year)
	if day == "" && month == "" && year == "" {
		return time.Time{}, false, true
	}
	d, err1 := strconv.Atoi(day)
	m, err2 := strconv.Atoi(month)
	y, err3 := strconv.Atoi(year)
	if err1 != nil || err2 != nil || err3 != nil || y < 2000 || y > 2100 {
		return time.Time{}, true, false
	}
	t = time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d || int(t.Month()) != m {
		return time.Time{}, true, false
	}
	return t, true, true
}

// inOrder sorts a form's errors into the order of its fields on the page, so that the error summary
// reads top to bottom.
func inOrder(errs Errors, fields ...string) Errors {
	pos := func(f string) int {
		if i := slices.Index(fields, f); i >= 0 {
			return i
		}
		return len(fields)
	}
	sort.SliceStable(errs, func(i, j int) bool { return pos(errs[i].Field) < pos(errs[j].Field) })
	return errs
}
