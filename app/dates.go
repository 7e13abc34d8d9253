package app

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nhs-esr/portal/forms"
)

// parseDate reads a day/month/year date input; all empty is no date.
func parseDate(day, month, year string) (time.Time, bool, bool) {
	if day == "" && month == "" && year == "" {
		return time.Time{}, false, true
	}
	d, err1 := strconv.Atoi(day)
	m, err2 := strconv.Atoi(month)
	y, err3 := strconv.Atoi(year)
	if err1 != nil || err2 != nil || err3 != nil || y < 2000 || y > 2100 {
		return time.Time{}, false, false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, london)
	if t.Day() != d || int(t.Month()) != m {
		return time.Time{}, false, false
	}
	return t, true, true
}

// dateField parses a date from its three boxes, or adds the error for field and returns the zero time.
func dateField(errs *forms.Errors, field, what, day, month, year string) time.Time {
	d, given, ok := parseDate(strings.TrimSpace(day), strings.TrimSpace(month), strings.TrimSpace(year))
	switch {
	case !ok:
		errs.Add(field+"-day", fmt.Sprintf("The %s must be a real date, like 27 3 2027", what))
	case !given:
		errs.Add(field+"-day", fmt.Sprintf("Enter the %s", what))
	}
	return d
}
