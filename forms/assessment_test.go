package forms

import (
	"fmt"
	"testing"
)

func TestPence(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"12,500", 1250000, true},
		{"12500.50", 1250050, true},
		{"£12,500.5", 1250050, true},
		{"£ 1,234,567.89", 123456789, true},
		{"0", 0, true},
		{"99.05", 9905, true},
		{"9,999,999,999.99", 999999999999, true},
		{"10,000,000,000", 0, false},
		{"12.500,00", 0, false},
		{"1,25", 0, false},
		{"12,50,000", 0, false},
		{"-5", 0, false},
		{"12.505", 0, false},
		{"twelve", 0, false},
		{"", 0, false},
	} {
		got, ok := Pence(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("Pence(%q) = %d, %v; want %d, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestDays(t *testing.T) {
	for _, c := range []struct {
		in   string
		want float64
		ok   bool
	}{
		{"15", 15, true}, {"12.5", 12.5, true}, {"0", 0, true}, {"99999.9", 99999.9, true},
		{"12.25", 0, false}, {"-1", 0, false}, {"1e3", 0, false}, {"100000", 0, false}, {"", 0, false},
	} {
		got, ok := Days(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("Days(%q) = %v, %v; want %v, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestAssessmentCheck(t *testing.T) {
	v := NewValidator()
	areas := []string{"Payroll", "Self Service"}
	draft := Assessment{Cost: "lots", EffortDays: "-2", Modules: []string{"Astrology"}, Action: "save"}
	got := draft.Check(v, areas)
	want := Errors{
		{"effort_days", "Effort in days must be 0 or more"},
		{"modules", "Select the ESR modules from the list"},
		{"cost", "Enter the cost in pounds, like 12,500 or 12500.50"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("draft: %v, want %v", got, want)
	}
	complete := Assessment{Risks: "  \r\n ", EffortSize: "XXL", Action: "complete"}
	got = complete.Check(v, areas)
	want = Errors{
		{"effort_size", "Select the effort size from the list"},
		{"risks", "Describe the risks"},
		{"recommendation", "Select your recommendation"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("complete: %v, want %v", got, want)
	}
	ok := Assessment{EffortSize: "S", Risks: "r", Recommendation: "defer", Cost: "£1,000", EffortDays: "3.5", Modules: []string{"Payroll"}, Action: "complete"}
	if errs := ok.Check(v, areas); errs.Any() {
		t.Errorf("a whole assessment: %v", errs)
	}
}
