package workday

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

func london(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// day parses "2006-01-02" as midnight Europe/London.
func day(t *testing.T, s string) time.Time {
	t.Helper()
	d, err := time.ParseInLocation(time.DateOnly, s, london(t))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// utc is an instant given in UTC.
func utc(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, time.UTC)
}

// isLondonMidnight fails unless got is exactly want's date at midnight Europe/London.
func isLondonMidnight(t *testing.T, got time.Time, want string) {
	t.Helper()
	if got.Location().String() != "Europe/London" {
		t.Errorf("location = %s, want Europe/London", got.Location())
	}
	if h, m, s := got.Clock(); h != 0 || m != 0 || s != 0 || got.Nanosecond() != 0 {
		t.Errorf("time of day = %s, want midnight", got.Format("15:04:05.999999999 MST"))
	}
	if !got.Equal(day(t, want)) {
		t.Errorf("date = %s, want %s", got.Format("Mon 2 Jan 2006 15:04 MST"), want)
	}
}

func TestHolidayDates(t *testing.T) {
	// 2020 to 2027 as GOV.UK publishes them for England and Wales; 2028 to 2030 by the standing rules.
	tests := []struct {
		year int
		want []string
	}{
		{2020, []string{"2020-01-01", "2020-04-10", "2020-04-13", "2020-05-08", "2020-05-25", "2020-08-31", "2020-12-25", "2020-12-28"}},
		{2021, []string{"2021-01-01", "2021-04-02", "2021-04-05", "2021-05-03", "2021-05-31", "2021-08-30", "2021-12-27", "2021-12-28"}},
		{2022, []string{"2022-01-03", "2022-04-15", "2022-04-18", "2022-05-02", "2022-06-02", "2022-06-03", "2022-08-29", "2022-09-19", "2022-12-26", "2022-12-27"}},
		{2023, []string{"2023-01-02", "2023-04-07", "2023-04-10", "2023-05-01", "2023-05-08", "2023-05-29", "2023-08-28", "2023-12-25", "2023-12-26"}},
		{2024, []string{"2024-01-01", "2024-03-29", "2024-04-01", "2024-05-06", "2024-05-27", "2024-08-26", "2024-12-25", "2024-12-26"}},
		{2025, []string{"2025-01-01", "2025-04-18", "2025-04-21", "2025-05-05", "2025-05-26", "2025-08-25", "2025-12-25", "2025-12-26"}},
		{2026, []string{"2026-01-01", "2026-04-03", "2026-04-06", "2026-05-04", "2026-05-25", "2026-08-31", "2026-12-25", "2026-12-28"}},
		{2027, []string{"2027-01-01", "2027-03-26", "2027-03-29", "2027-05-03", "2027-05-31", "2027-08-30", "2027-12-27", "2027-12-28"}},
		{2028, []string{"2028-01-03", "2028-04-14", "2028-04-17", "2028-05-01", "2028-05-29", "2028-08-28", "2028-12-25", "2028-12-26"}},
		{2029, []string{"2029-01-01", "2029-03-30", "2029-04-02", "2029-05-07", "2029-05-28", "2029-08-27", "2029-12-25", "2029-12-26"}},
		{2030, []string{"2030-01-01", "2030-04-19", "2030-04-22", "2030-05-06", "2030-05-27", "2030-08-26", "2030-12-25", "2030-12-26"}},
	}
	c := New()
	for _, tt := range tests {
		hs, err := c.Holidays(tt.year)
		if err != nil {
			t.Fatalf("Holidays(%d): %v", tt.year, err)
		}
		var got []string
		for _, h := range hs {
			got = append(got, h.Date.In(london(t)).Format(time.DateOnly))
			isLondonMidnight(t, h.Date, h.Date.In(london(t)).Format(time.DateOnly))
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("Holidays(%d)\n got %v\nwant %v", tt.year, got, tt.want)
		}
		for _, s := range tt.want {
			ok, err := c.IsWorkingDay(day(t, s))
			if err != nil || ok {
				t.Errorf("IsWorkingDay(%s) = %v, %v; want false, nil", s, ok, err)
			}
		}
	}
}

func TestHolidayNames(t *testing.T) {
	tests := []struct {
		year int
		want []Holiday
	}{
		{2026, []Holiday{
			{day(t, "2026-01-01"), "New Year’s Day"},
			{day(t, "2026-04-03"), "Good Friday"},
			{day(t, "2026-04-06"), "Easter Monday"},
			{day(t, "2026-05-04"), "Early May bank holiday"},
			{day(t, "2026-05-25"), "Spring bank holiday"},
			{day(t, "2026-08-31"), "Summer bank holiday"},
			{day(t, "2026-12-25"), "Christmas Day"},
			{day(t, "2026-12-28"), "Boxing Day (substitute day)"},
		}},
		{2027, []Holiday{
			{day(t, "2027-01-01"), "New Year’s Day"},
			{day(t, "2027-03-26"), "Good Friday"},
			{day(t, "2027-03-29"), "Easter Monday"},
			{day(t, "2027-05-03"), "Early May bank holiday"},
			{day(t, "2027-05-31"), "Spring bank holiday"},
			{day(t, "2027-08-30"), "Summer bank holiday"},
			{day(t, "2027-12-27"), "Christmas Day (substitute day)"},
			{day(t, "2027-12-28"), "Boxing Day (substitute day)"},
		}},
		{2022, []Holiday{
			{day(t, "2022-01-03"), "New Year’s Day (substitute day)"},
			{day(t, "2022-04-15"), "Good Friday"},
			{day(t, "2022-04-18"), "Easter Monday"},
			{day(t, "2022-05-02"), "Early May bank holiday"},
			{day(t, "2022-06-02"), "Spring bank holiday"},
			{day(t, "2022-06-03"), "Platinum Jubilee bank holiday"},
			{day(t, "2022-08-29"), "Summer bank holiday"},
			{day(t, "2022-09-19"), "Bank holiday for the State Funeral of Queen Elizabeth II"},
			{day(t, "2022-12-26"), "Boxing Day"},
			{day(t, "2022-12-27"), "Christmas Day (substitute day)"},
		}},
	}
	c := New()
	for _, tt := range tests {
		got, err := c.Holidays(tt.year)
		if err != nil {
			t.Fatalf("Holidays(%d): %v", tt.year, err)
		}
		if !slices.EqualFunc(got, tt.want, func(a, b Holiday) bool { return a.Date.Equal(b.Date) && a.Name == b.Name }) {
			t.Errorf("Holidays(%d)\n got %v\nwant %v", tt.year, got, tt.want)
		}
	}

	oneOffs := []struct {
		date, name string
	}{
		{"2020-05-08", "Early May bank holiday (VE day)"},
		{"2023-05-08", "Bank holiday for the coronation of King Charles III"},
	}
	for _, tt := range oneOffs {
		hs, err := c.Holidays(day(t, tt.date).Year())
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(hs, func(h Holiday) bool { return h.Date.Equal(day(t, tt.date)) && h.Name == tt.name }) {
			t.Errorf("Holidays(%s) lacks %s %q: %v", tt.date[:4], tt.date, tt.name, hs)
		}
	}
}

func TestHolidaysReturnsACopy(t *testing.T) {
	c := New()
	hs, err := c.Holidays(2026)
	if err != nil {
		t.Fatal(err)
	}
	hs[0] = Holiday{Date: day(t, "2026-01-02"), Name: "changed"}
	again, err := c.Holidays(2026)
	if err != nil {
		t.Fatal(err)
	}
	if again[0].Name != "New Year’s Day" {
		t.Errorf("a caller changed the calendar: %v", again[0])
	}
	if ok, _ := c.IsWorkingDay(day(t, "2026-01-02")); !ok {
		t.Error("Fri 2 Jan 2026 became a holiday")
	}
}

func TestIsWorkingDay(t *testing.T) {
	tests := []struct {
		name string
		at   time.Time
		want bool
	}{
		{"Monday", day(t, "2026-11-23"), true},
		{"Friday", day(t, "2026-11-27"), true},
		{"Saturday", day(t, "2026-11-28"), false},
		{"Sunday", day(t, "2026-11-29"), false},
		{"Christmas Day", day(t, "2026-12-25"), false},
		{"Boxing Day substitute 2026", day(t, "2026-12-28"), false},
		{"after Christmas 2026", day(t, "2026-12-29"), true},
		{"Christmas Day substitute 2027", day(t, "2027-12-27"), false},
		{"Boxing Day substitute 2027", day(t, "2027-12-28"), false},
		{"Christmas Day 2027 itself, a Saturday", day(t, "2027-12-25"), false},
		{"State Funeral", day(t, "2022-09-19"), false},
		{"Coronation", day(t, "2023-05-08"), false},
		{"Platinum Jubilee", day(t, "2022-06-03"), false},
		{"usual early May Monday not taken in 2020", day(t, "2020-05-04"), true},
		{"late afternoon", day(t, "2026-11-23").Add(17 * time.Hour), true},
		// British Summer Time: 23:30 UTC is 00:30 the next day in London.
		{"Sun 30 Aug 2026 23:30 UTC is bank holiday Monday in London", utc(2026, time.August, 30, 23, 30), false},
		{"Mon 31 Aug 2026 23:30 UTC is Tue 1 Sep in London", utc(2026, time.August, 31, 23, 30), true},
		{"Mon 31 Aug 2026 22:59 UTC is still the bank holiday", utc(2026, time.August, 31, 22, 59), false},
		{"Thu 22 Oct 2026 23:30 UTC is Fri 23 Oct in London", utc(2026, time.October, 22, 23, 30), true},
		{"Fri 23 Oct 2026 23:30 UTC is Sat 24 Oct in London", utc(2026, time.October, 23, 23, 30), false},
		// Greenwich Mean Time: 23:30 UTC is the same day in London.
		{"Thu 24 Dec 2026 23:30 UTC is still Christmas Eve", utc(2026, time.December, 24, 23, 30), true},
		{"Sun 3 Jan 2027 23:59 UTC is still Sunday", utc(2027, time.January, 3, 23, 59), false},
		// The clocks go forward at 01:00 UTC on Sun 28 Mar 2027; Mon 29 Mar 2027 is Easter Monday.
		{"Sun 28 Mar 2027 00:30 UTC is Sunday in London", utc(2027, time.March, 28, 0, 30), false},
		{"Sun 28 Mar 2027 23:30 UTC is Easter Monday in London", utc(2027, time.March, 28, 23, 30), false},
		{"Mon 29 Mar 2027 23:30 UTC is Tue 30 Mar in London", utc(2027, time.March, 29, 23, 30), true},
		{"Mon 29 Mar 2027 22:30 UTC is still Easter Monday", utc(2027, time.March, 29, 22, 30), false},
		// An instant in another zone counts by its London date.
		{"20:00 New York on Thu 2 Apr 2026 is Good Friday in London",
			time.Date(2026, time.April, 2, 20, 0, 0, 0, time.FixedZone("EDT", -4*60*60)), false},
		{"first day known", day(t, "2020-01-02"), true},
		{"last day known", day(t, "2030-12-31"), true},
	}
	c := New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.IsWorkingDay(tt.at)
			if err != nil {
				t.Fatalf("IsWorkingDay(%s): %v", tt.at, err)
			}
			if got != tt.want {
				t.Errorf("IsWorkingDay(%s) = %v, want %v", tt.at, got, tt.want)
			}
		})
	}
}

func TestAddWorkingDays(t *testing.T) {
	tests := []struct {
		name     string
		received time.Time
		n        int
		want     string
	}{
		// DOMAIN.md's examples.
		{"received Thu 24 Dec 2026", day(t, "2026-12-24"), 5, "2027-01-05"},
		{"received Thu 2 Apr 2026", day(t, "2026-04-02"), 5, "2026-04-13"},
		{"received Thu 27 Aug 2026", day(t, "2026-08-27"), 5, "2026-09-04"},
		{"received Thu 24 Dec 2026 at 16:45", day(t, "2026-12-24").Add(16*time.Hour + 45*time.Minute), 5, "2027-01-05"},

		{"0 days is the day of receipt", day(t, "2026-11-24"), 0, "2026-11-24"},
		{"0 days from a Saturday is that Saturday", day(t, "2026-11-28").Add(10 * time.Hour), 0, "2026-11-28"},
		{"0 days from a bank holiday is that day", day(t, "2026-12-25"), 0, "2026-12-25"},
		{"1 day from Monday", day(t, "2026-11-23"), 1, "2026-11-24"},
		{"1 day from Friday", day(t, "2026-11-27"), 1, "2026-11-30"},
		{"received Saturday", day(t, "2026-11-28"), 1, "2026-11-30"},
		{"received Sunday", day(t, "2026-11-29"), 5, "2026-12-04"},
		{"received Sat before the August bank holiday", day(t, "2026-08-29"), 1, "2026-09-01"},
		{"received Christmas Day", day(t, "2026-12-25"), 1, "2026-12-29"},
		{"received the Boxing Day substitute", day(t, "2026-12-28"), 2, "2026-12-30"},
		{"over Christmas 2027 and both substitute days", day(t, "2027-12-24"), 1, "2027-12-29"},
		{"20 working days over Easter 2026", day(t, "2026-03-30"), 20, "2026-04-29"},
		{"over the new year", day(t, "2026-12-31"), 1, "2027-01-04"},
		{"into the clocks going forward", day(t, "2026-03-27"), 1, "2026-03-30"},
		{"into the clocks going back", day(t, "2026-10-23"), 1, "2026-10-26"},

		// British Summer Time: 23:30 UTC on Wed 26 Aug is Thu 27 Aug in London.
		{"22:59 UTC on Wed 26 Aug 2026 is Wednesday in London", utc(2026, time.August, 26, 22, 59), 5, "2026-09-03"},
		{"23:30 UTC on Wed 26 Aug 2026 is Thursday in London", utc(2026, time.August, 26, 23, 30), 5, "2026-09-04"},
		// Greenwich Mean Time: 23:30 UTC is still the same day in London.
		{"23:30 UTC on Wed 23 Dec 2026 is Wednesday in London", utc(2026, time.December, 23, 23, 30), 5, "2027-01-04"},
		{"00:30 UTC on Thu 24 Dec 2026 is Thursday in London", utc(2026, time.December, 24, 0, 30), 5, "2027-01-05"},
		{"23:30 UTC on Sun 28 Mar 2027 is Easter Monday in London", utc(2027, time.March, 28, 23, 30), 0, "2027-03-29"},
		{"23:30 UTC on Thu 25 Mar 2027 is still Thursday before Good Friday", utc(2027, time.March, 25, 23, 30), 1, "2027-03-30"},

		{"last day the calendar can reach", day(t, "2030-12-24"), 3, "2030-12-31"},
	}
	c := New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.AddWorkingDays(tt.received, tt.n)
			if err != nil {
				t.Fatalf("AddWorkingDays(%s, %d): %v", tt.received, tt.n, err)
			}
			isLondonMidnight(t, got, tt.want)
			if tt.n > 0 {
				if ok, err := c.IsWorkingDay(got); err != nil || !ok {
					t.Errorf("due date %s is not a working day (%v)", got, err)
				}
				if between, err := c.WorkingDaysBetween(tt.received, got); err != nil || between != tt.n {
					t.Errorf("WorkingDaysBetween(received, due) = %d, %v; want %d", between, err, tt.n)
				}
			}
		})
	}
}

func TestAddWorkingDaysErrors(t *testing.T) {
	tests := []struct {
		name       string
		received   time.Time
		n          int
		outOfRange bool
	}{
		{"received before the first year", day(t, "2019-12-31"), 1, true},
		{"received 23:30 UTC on 31 Dec 2019, still 2019 in London", utc(2019, time.December, 31, 23, 30), 0, true},
		{"received after the last year", day(t, "2031-01-02"), 1, true},
		{"zero time", time.Time{}, 1, true},
		{"counting runs past the last year", day(t, "2030-12-24"), 4, true},
		{"counting from the last day known", day(t, "2030-12-31"), 1, true},
		{"negative number of days", day(t, "2026-11-24"), -1, false},
	}
	c := New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.AddWorkingDays(tt.received, tt.n)
			if err == nil {
				t.Fatalf("AddWorkingDays(%s, %d) = %s, want an error", tt.received, tt.n, got)
			}
			if errors.Is(err, ErrOutOfRange) != tt.outOfRange {
				t.Errorf("errors.Is(%v, ErrOutOfRange) = %v, want %v", err, !tt.outOfRange, tt.outOfRange)
			}
			if !got.IsZero() {
				t.Errorf("date = %s alongside an error, want the zero time", got)
			}
		})
	}
}

func TestWorkingDaysBetween(t *testing.T) {
	tests := []struct {
		name     string
		from, to time.Time
		want     int
	}{
		{"same date", day(t, "2026-11-24"), day(t, "2026-11-24"), 0},
		{"same date, different times", day(t, "2026-11-24").Add(9 * time.Hour), day(t, "2026-11-24").Add(17 * time.Hour), 0},
		{"same date, later time first", day(t, "2026-11-24").Add(17 * time.Hour), day(t, "2026-11-24").Add(9 * time.Hour), 0},
		{"Monday to Friday", day(t, "2026-11-23"), day(t, "2026-11-27"), 4},
		{"Friday to Monday", day(t, "2026-11-27"), day(t, "2026-11-30"), 1},
		{"Friday to Saturday", day(t, "2026-11-27"), day(t, "2026-11-28"), 0},
		{"Saturday to Sunday", day(t, "2026-11-28"), day(t, "2026-11-29"), 0},
		{"Saturday to Monday", day(t, "2026-11-28"), day(t, "2026-11-30"), 1},
		{"over Christmas 2026", day(t, "2026-12-24"), day(t, "2027-01-05"), 5},
		{"over Easter 2026", day(t, "2026-04-02"), day(t, "2026-04-13"), 5},
		{"to a bank holiday", day(t, "2026-08-28"), day(t, "2026-08-31"), 0},
		{"a whole year", day(t, "2025-12-31"), day(t, "2026-12-31"), 253},
		{"backwards: Friday to Monday before", day(t, "2026-11-27"), day(t, "2026-11-23"), -4},
		{"backwards: Tuesday to Friday before", day(t, "2026-12-01"), day(t, "2026-11-27"), -2},
		{"backwards: Sunday to Friday before", day(t, "2026-11-29"), day(t, "2026-11-27"), 0},
		{"backwards over Christmas 2026", day(t, "2027-01-05"), day(t, "2026-12-24"), -5},
		{"23:30 UTC on Wed 26 Aug 2026 is Thu 27 Aug in London", utc(2026, time.August, 26, 23, 30), day(t, "2026-08-27").Add(12 * time.Hour), 0},
		{"22:30 UTC on Wed 26 Aug 2026 is Wed 26 Aug in London", utc(2026, time.August, 26, 22, 30), day(t, "2026-08-27").Add(12 * time.Hour), 1},
		{"across the clocks going back", day(t, "2026-10-23"), day(t, "2026-10-26"), 1},
		// 2,869 weekdays from 2 Jan 2020 to 31 Dec 2030, less the 90 bank holidays after 1 Jan 2020.
		{"first to last day known", day(t, "2020-01-01"), day(t, "2030-12-31"), 2779},
	}
	c := New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.WorkingDaysBetween(tt.from, tt.to)
			if err != nil {
				t.Fatalf("WorkingDaysBetween(%s, %s): %v", tt.from, tt.to, err)
			}
			if got != tt.want {
				t.Errorf("WorkingDaysBetween(%s, %s) = %d, want %d", tt.from, tt.to, got, tt.want)
			}
		})
	}
}

func TestWorkingDaysBetweenOutOfRange(t *testing.T) {
	tests := []struct {
		name     string
		from, to time.Time
	}{
		{"from before the first year", day(t, "2019-12-31"), day(t, "2020-01-02")},
		{"to after the last year", day(t, "2030-12-31"), day(t, "2031-01-01")},
		{"backwards to before the first year", day(t, "2020-01-02"), day(t, "2019-12-30")},
		{"zero time", time.Time{}, day(t, "2026-11-24")},
	}
	c := New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := c.WorkingDaysBetween(tt.from, tt.to); !errors.Is(err, ErrOutOfRange) {
				t.Errorf("WorkingDaysBetween(%s, %s) = %d, %v; want ErrOutOfRange", tt.from, tt.to, got, err)
			}
		})
	}
}

func TestStatus(t *testing.T) {
	tests := []struct {
		name     string
		due, now time.Time
		want     SLA
	}{
		{"on the day of receipt", day(t, "2026-09-04"), day(t, "2026-08-27").Add(9 * time.Hour),
			SLA{StateDue, 5, "due in 5 working days"}},
		{"two working days left", day(t, "2026-09-04"), day(t, "2026-09-02"),
			SLA{StateDue, 2, "due in 2 working days"}},
		{"one working day left", day(t, "2026-09-04"), day(t, "2026-09-03").Add(15 * time.Hour),
			SLA{StateDue, 1, "due in 1 working day"}},
		{"over a bank holiday weekend", day(t, "2026-09-01"), day(t, "2026-08-28"),
			SLA{StateDue, 1, "due in 1 working day"}},
		{"seen at the weekend, due Monday", day(t, "2026-11-30"), day(t, "2026-11-28"),
			SLA{StateDue, 1, "due in 1 working day"}},
		{"due today, early", day(t, "2026-09-04"), day(t, "2026-09-04"),
			SLA{StateDueToday, 0, "due today"}},
		{"due today, late", day(t, "2026-09-04"), day(t, "2026-09-04").Add(23*time.Hour + 59*time.Minute),
			SLA{StateDueToday, 0, "due today"}},
		{"due date given at noon", day(t, "2026-09-04").Add(12 * time.Hour), day(t, "2026-09-04").Add(8 * time.Hour),
			SLA{StateDueToday, 0, "due today"}},
		{"23:30 UTC the day before is the due date in London", day(t, "2026-09-04"), utc(2026, time.September, 3, 23, 30),
			SLA{StateDueToday, 0, "due today"}},
		{"22:59 UTC the day before is still the day before in London", day(t, "2026-09-04"), utc(2026, time.September, 3, 22, 59),
			SLA{StateDue, 1, "due in 1 working day"}},
		{"due on a Saturday, seen the Friday", day(t, "2026-11-28"), day(t, "2026-11-27"),
			SLA{StateDueToday, 0, "due today"}},
		{"due on a Saturday, seen that Saturday", day(t, "2026-11-28"), day(t, "2026-11-28"),
			SLA{StateDueToday, 0, "due today"}},
		{"due on a Saturday, seen the Sunday", day(t, "2026-11-28"), day(t, "2026-11-29"),
			SLA{StateOverdue, 0, "overdue"}},
		{"the weekend after a Friday due date", day(t, "2026-09-04"), day(t, "2026-09-05"),
			SLA{StateOverdue, 0, "overdue"}},
		{"one working day late", day(t, "2026-09-04"), day(t, "2026-09-07"),
			SLA{StateOverdue, 1, "overdue by 1 working day"}},
		{"two working days late", day(t, "2026-09-04"), day(t, "2026-09-08").Add(10 * time.Hour),
			SLA{StateOverdue, 2, "overdue by 2 working days"}},
		{"late over Christmas", day(t, "2026-12-24"), day(t, "2027-01-05"),
			SLA{StateOverdue, 5, "overdue by 5 working days"}},
		{"one minute past the due date in London", day(t, "2026-09-04"), utc(2026, time.September, 4, 23, 1),
			SLA{StateOverdue, 0, "overdue"}},
	}
	c := New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.Status(tt.due, tt.now)
			if err != nil {
				t.Fatalf("Status(%s, %s): %v", tt.due, tt.now, err)
			}
			if got != tt.want {
				t.Errorf("Status(%s, %s) = %+v, want %+v", tt.due, tt.now, got, tt.want)
			}
		})
	}
}

func TestOutOfRange(t *testing.T) {
	c := New()
	dates := []struct {
		name string
		at   time.Time
	}{
		{"the day before the first year", day(t, "2019-12-31")},
		{"a weekend before the first year", day(t, "2019-12-29")},
		{"the day after the last year", day(t, "2031-01-01")},
		{"00:30 UTC on 1 Jan 2031", utc(2031, time.January, 1, 0, 30)},
		{"far future", day(t, "2100-06-01")},
		{"zero time", time.Time{}},
	}
	for _, tt := range dates {
		t.Run("IsWorkingDay "+tt.name, func(t *testing.T) {
			if got, err := c.IsWorkingDay(tt.at); !errors.Is(err, ErrOutOfRange) || got {
				t.Errorf("IsWorkingDay(%s) = %v, %v; want false, ErrOutOfRange", tt.at, got, err)
			}
		})
		t.Run("Status "+tt.name, func(t *testing.T) {
			if got, err := c.Status(tt.at, day(t, "2026-11-24")); !errors.Is(err, ErrOutOfRange) || got != (SLA{}) {
				t.Errorf("Status(%s, today) = %+v, %v; want ErrOutOfRange", tt.at, got, err)
			}
			if got, err := c.Status(day(t, "2026-11-24"), tt.at); !errors.Is(err, ErrOutOfRange) || got != (SLA{}) {
				t.Errorf("Status(today, %s) = %+v, %v; want ErrOutOfRange", tt.at, got, err)
			}
		})
	}

	years := []struct {
		year int
		ok   bool
	}{
		{FirstYear - 1, false},
		{FirstYear, true},
		{LastYear, true},
		{LastYear + 1, false},
		{0, false},
	}
	for _, tt := range years {
		hs, err := c.Holidays(tt.year)
		if tt.ok && (err != nil || len(hs) == 0) {
			t.Errorf("Holidays(%d) = %d holidays, %v; want some", tt.year, len(hs), err)
		}
		if !tt.ok && (!errors.Is(err, ErrOutOfRange) || hs != nil) {
			t.Errorf("Holidays(%d) = %v, %v; want nil, ErrOutOfRange", tt.year, hs, err)
		}
	}
}

func TestSharedCalendar(t *testing.T) {
	c := New()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			received := day(t, "2026-12-24").AddDate(0, 0, i)
			if _, err := c.AddWorkingDays(received, 5); err != nil {
				t.Error(err)
			}
			if _, err := c.Holidays(2026 + i%2); err != nil {
				t.Error(err)
			}
			if _, err := c.Status(received, day(t, "2027-01-05")); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}
