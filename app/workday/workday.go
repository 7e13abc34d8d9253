// Package workday counts working days for service-level deadlines: Monday to Friday, except England and
// Wales bank holidays, with every date taken in Europe/London.
//
// A date is a time.Time at midnight Europe/London. Any instant passed in stands for its date in London, so
// 23:30 UTC on a summer evening is already the next day.
//
// The calendar knows the years FirstYear to LastYear and refuses any other date with ErrOutOfRange rather
// than assume a year has no bank holidays.
package workday

import (
	"errors"
	"fmt"
	"slices"
	"time"

	// Europe/London must resolve even where the machine has no zoneinfo database.
	_ "time/tzdata"

	"github.com/rickar/cal/v2"
	"github.com/rickar/cal/v2/gb"
)

// The years the calendar knows.
//
// 2020 to 2027 are checked date by date against the bank holidays GOV.UK publishes for England and
// Wales, including the one-off days (VE Day moved the early May bank holiday in 2020; the Platinum
// Jubilee, the State Funeral of Queen Elizabeth II and the coronation of King Charles III). GOV.UK
// publishes about two years ahead; 2028 to 2030 follow the standing rules (New Year's Day, Easter, the
// first and last Mondays of May, the last Monday of August, Christmas and Boxing Day, with substitute
// days) and are listed in the tests. One-off days are announced at short notice, so the calendar stops at
// 2030 rather than go on guessing: when GOV.UK publishes a new year, check it, add any one-off day to
// oneOffHolidays and move LastYear on.
const (
	FirstYear = 2020
	LastYear  = 2030
)

// ErrOutOfRange: a date outside the years the calendar knows. Never silently assume "no holidays".
var ErrOutOfRange = errors.New("date outside the years the working-day calendar knows")

// Holiday is one England and Wales bank holiday on the day it is taken off: a substitute day when the
// holiday itself falls at a weekend.
type Holiday struct {
	Date time.Time // midnight Europe/London
	Name string    // as GOV.UK names it, with " (substitute day)" for a substitute day
}

// Calendar knows the bank holidays of a range of years. It does not change after New, so one Calendar
// may be shared by any number of goroutines.
type Calendar struct {
	loc      *time.Location
	holidays map[civil]string
	byYear   map[int][]Holiday
}

// civil is a date on the calendar, with no time or place.
type civil struct {
	year  int
	month time.Month
	day   int
}

func civilOf(t time.Time) civil {
	y, m, d := t.Date()
	return civil{y, m, d}
}

// utc gives the date as midnight UTC, which has no daylight saving, for stepping and weekdays.
func (d civil) utc() time.Time { return time.Date(d.year, d.month, d.day, 0, 0, 0, 0, time.UTC) }

func (d civil) addDays(n int) civil { return civilOf(d.utc().AddDate(0, 0, n)) }

func (d civil) weekday() time.Weekday { return d.utc().Weekday() }

func (d civil) before(e civil) bool { return d.utc().Before(e.utc()) }

func (d civil) String() string { return d.utc().Format("2 January 2006") }

// ruleNames gives GOV.UK's names to the library's England and Wales holidays.
func ruleNames() map[*cal.Holiday]string {
	return map[*cal.Holiday]string{
		gb.NewYear:           "New Year’s Day",
		gb.GoodFriday:        "Good Friday",
		gb.EasterMonday:      "Easter Monday",
		gb.EarlyMay:          "Early May bank holiday",
		gb.VEDay:             "Early May bank holiday (VE day)",
		gb.CoronationDay:     "Bank holiday for the coronation of King Charles III",
		gb.SpringHoliday:     "Spring bank holiday",
		gb.SpringHoliday2022: "Spring bank holiday",
		gb.PlatinumJubilee:   "Platinum Jubilee bank holiday",
		gb.SummerHoliday:     "Summer bank holiday",
		gb.ChristmasDay:      "Christmas Day",
		gb.BoxingDay:         "Boxing Day",
	}
}

// oneOffHolidays are England and Wales bank holidays that the library does not know.
func oneOffHolidays() []Holiday {
	return []Holiday{
		{Date: time.Date(2022, time.September, 19, 0, 0, 0, 0, time.UTC), Name: "Bank holiday for the State Funeral of Queen Elizabeth II"},
	}
}

// New returns the England and Wales calendar for FirstYear to LastYear: the bank holidays of
// github.com/rickar/cal's gb package on the days they are taken off (substitute days included), with the
// one-off days that package lacks added by hand.
func New() *Calendar {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		// The zone database is embedded above, so this only fails in a broken build.
		panic(fmt.Sprintf("workday: load Europe/London: %v", err))
	}
	c := &Calendar{loc: loc, holidays: map[civil]string{}, byYear: map[int][]Holiday{}}
	names := ruleNames()
	extra := oneOffHolidays()
	for year := FirstYear; year <= LastYear; year++ {
		type entry struct {
			actual, observed civil
			name             string
		}
		var entries []entry
		for _, h := range gb.Holidays {
			actual, observed := h.Calc(year)
			if observed.IsZero() {
				continue
			}
			name, ok := names[h]
			if !ok {
				name = h.Name
			}
			entries = append(entries, entry{civilOf(actual), civilOf(observed), name})
		}
		// A holiday on a weekday keeps its own day; the holiday that was pushed onto it moves on instead.
		// (Christmas on a Sunday: Boxing Day stays on Monday 26th and Christmas is taken on Tuesday 27th.)
		for i := range entries {
			e := &entries[i]
			if e.observed == e.actual || e.actual.weekday() == time.Saturday || e.actual.weekday() == time.Sunday {
				continue
			}
			for j := range entries {
				if j != i && entries[j].observed == e.actual {
					entries[j].observed, e.observed = e.observed, e.actual
					break
				}
			}
		}
		for _, e := range entries {
			name := e.name
			if e.observed != e.actual {
				name += " (substitute day)"
			}
			c.add(e.observed, name)
		}
		for _, h := range extra {
			if h.Date.Year() == year {
				c.add(civilOf(h.Date), h.Name)
			}
		}
		slices.SortFunc(c.byYear[year], func(a, b Holiday) int { return a.Date.Compare(b.Date) })
	}
	return c
}

// add records a holiday unless the day is one already.
func (c *Calendar) add(d civil, name string) {
	if _, ok := c.holidays[d]; ok {
		return
	}
	c.holidays[d] = name
	c.byYear[d.year] = append(c.byYear[d.year], Holiday{Date: c.midnight(d), Name: name})
}

func (c *Calendar) midnight(d civil) time.Time {
	return time.Date(d.year, d.month, d.day, 0, 0, 0, 0, c.loc)
}

// dateOf is t's date in Europe/London, refused when the calendar does not know its year.
func (c *Calendar) dateOf(t time.Time) (civil, error) {
	d := civilOf(t.In(c.loc))
	return d, c.check(d)
}

func (c *Calendar) check(d civil) error {
	if d.year < FirstYear || d.year > LastYear {
		return fmt.Errorf("%w: %s (it knows %d to %d)", ErrOutOfRange, d, FirstYear, LastYear)
	}
	return nil
}

// working tells whether a known date is a working day.
func (c *Calendar) working(d civil) bool {
	if wd := d.weekday(); wd == time.Saturday || wd == time.Sunday {
		return false
	}
	_, holiday := c.holidays[d]
	return !holiday
}

// IsWorkingDay tells whether d's date in Europe/London is a working day: Monday to Friday and not an
// England and Wales bank holiday.
func (c *Calendar) IsWorkingDay(d time.Time) (bool, error) {
	day, err := c.dateOf(d)
	if err != nil {
		return false, err
	}
	return c.working(day), nil
}

// AddWorkingDays returns the date n working days after receipt. Day 0 is the day of receipt in
// Europe/London, whatever kind of day it is, and counting starts on the next working day; so n = 0 is the
// day of receipt itself. The result is a date at midnight Europe/London. n must not be negative.
func (c *Calendar) AddWorkingDays(received time.Time, n int) (time.Time, error) {
	if n < 0 {
		return time.Time{}, fmt.Errorf("workday: add %d working days: the number must not be negative", n)
	}
	day, err := c.dateOf(received)
	if err != nil {
		return time.Time{}, err
	}
	for n > 0 {
		day = day.addDays(1)
		if err := c.check(day); err != nil {
			return time.Time{}, err
		}
		if c.working(day) {
			n--
		}
	}
	return c.midnight(day), nil
}

// WorkingDaysBetween counts the working days after from's date up to and including to's date (dates in
// Europe/London). When to is before from the count is negative: the working days after to's date up to
// and including from's date. The same date gives 0.
func (c *Calendar) WorkingDaysBetween(from, to time.Time) (int, error) {
	start, err := c.dateOf(from)
	if err != nil {
		return 0, err
	}
	end, err := c.dateOf(to)
	if err != nil {
		return 0, err
	}
	sign := 1
	if end.before(start) {
		start, end, sign = end, start, -1
	}
	count := 0
	for d := start.addDays(1); !end.before(d); d = d.addDays(1) {
		if c.working(d) {
			count++
		}
	}
	return sign * count, nil
}

// Holidays lists the England and Wales bank holidays of a year in date order, on the days they are taken
// off.
func (c *Calendar) Holidays(year int) ([]Holiday, error) {
	if err := c.check(civil{year, time.January, 1}); err != nil {
		return nil, err
	}
	return slices.Clone(c.byYear[year]), nil
}

// The states of an SLA.
const (
	StateDue      = "due"
	StateDueToday = "due_today"
	StateOverdue  = "overdue"
)

// SLA describes where a due date stands on a given day: "due in 3 working days", "due today", "overdue
// by 2 working days" (1 → singular "day").
type SLA struct {
	State       string // StateDue, StateDueToday or StateOverdue
	WorkingDays int    // working days left when due, working days late when overdue; never negative
	Text        string // the phrase to show, for example "due in 3 working days"
}

// Status tells where the due date stands on now's date (both in Europe/London).
//
//   - due: at least one working day is left after today up to the due date: "due in N working days".
//   - due today: the due date is today, or is still to come with no working day before it (a due date on
//     a weekend, seen on the Friday): "due today".
//   - overdue: the due date has passed: "overdue by N working days", counting the working days after the
//     due date up to today; just "overdue" while none has passed yet (the weekend after a Friday due date).
func (c *Calendar) Status(due, now time.Time) (SLA, error) {
	n, err := c.WorkingDaysBetween(now, due)
	if err != nil {
		return SLA{}, err
	}
	dueDay, _ := c.dateOf(due)
	today, _ := c.dateOf(now)
	switch {
	case n > 0:
		return SLA{State: StateDue, WorkingDays: n, Text: "due in " + workingDays(n)}, nil
	case n == 0 && !dueDay.before(today):
		return SLA{State: StateDueToday, Text: "due today"}, nil
	case n == 0:
		return SLA{State: StateOverdue, Text: "overdue"}, nil
	default:
		return SLA{State: StateOverdue, WorkingDays: -n, Text: "overdue by " + workingDays(-n)}, nil
	}
}

func workingDays(n int) string {
	if n == 1 {
		return "1 working day"
	}
	return fmt.Sprintf("%d working days", n)
}

// Location is Europe/London, the zone every date of the calendar is in.
func (c *Calendar) Location() *time.Location { return c.loc }

// Date is t's date in Europe/London, at midnight there. Unlike the other methods it works for any year.
func (c *Calendar) Date(t time.Time) time.Time {
	t = t.In(c.loc)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, c.loc)
}
