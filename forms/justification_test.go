package forms

import (
	"testing"
	"time"
)

func TestParseMoney(t *testing.T) {
	cases := []struct {
		in    string
		pence int64
		ok    bool
	}{
		{"12,500", 1250000, true},
		{"12500", 1250000, true},
		{"12500.50", 1250050, true},
		{"£12,500.05", 1250005, true},
		{"£ 1,234,567", 123456700, true},
		{"0", 0, true},
		{"0.99", 99, true},
		{"twelve pounds", 0, false},
		{"12500.5", 0, false},   // pence are two digits
		{"12,50", 0, false},     // commas group thousands
		{"1,2345", 0, false},    // commas group thousands
		{"-100", 0, false},      // savings are not negative
		{"12 500", 0, false},    // no spaces inside
		{"£", 0, false},         // no amount
		{"1e6", 0, false},       // not written like that
		{"12500.505", 0, false}, // no fractions of a penny
		{"9999999999999999999", 0, false},
	}
	for _, c := range cases {
		pence, ok := ParseMoney(c.in)
		if ok != c.ok || pence != c.pence {
			t.Errorf("ParseMoney(%q) = %d %v, want %d %v", c.in, pence, ok, c.pence, c.ok)
		}
		if ok {
			if back, _ := ParseMoney(FormatMoney(pence)); back != pence {
				t.Errorf("FormatMoney(%d) = %q reads back as %d", pence, FormatMoney(pence), back)
			}
		}
	}
	if got := FormatMoney(1250050); got != "12,500.50" {
		t.Errorf("FormatMoney = %q", got)
	}
	if got := FormatMoney(123456700); got != "1,234,567" {
		t.Errorf("FormatMoney = %q", got)
	}
}

func TestParseNumber(t *testing.T) {
	cases := []struct {
		in string
		n  float64
		ok bool
	}{
		{"7.5", 7.5, true},
		{"7", 7, true},
		{"1,200", 1200, true},
		{"0", 0, true},
		{"0.25", 0.25, true},
		{"seven", 0, false},
		{"7.555", 0, false},
		{"-1", 0, false},
		{"", 0, false},
	}
	for _, c := range cases {
		n, ok := ParseNumber(c.in)
		if ok != c.ok || n != c.n {
			t.Errorf("ParseNumber(%q) = %v %v, want %v %v", c.in, n, ok, c.n, c.ok)
		}
	}
	for n, want := range map[float64]string{7.5: "7.5", 1200: "1,200", 0.25: "0.25", 12: "12", 7.1: "7.1"} {
		if got := FormatNumber(n); got != want {
			t.Errorf("FormatNumber(%v) = %q, want %q", n, got, want)
		}
	}
}

func TestJustificationBenefitsCheck(t *testing.T) {
	v := NewValidator()
	valid := JustificationBenefits{Savings: "12,500", Hours: "7.5", Organisations: "220", QualityBenefits: "q", Baseline: "b", Target: "t"}
	cases := []struct {
		name   string
		change func(f *JustificationBenefits)
		want   Errors
	}{
		{"valid", func(*JustificationBenefits) {}, nil},
		{"savings in words", func(f *JustificationBenefits) { f.Savings = "twelve pounds" },
			Errors{{"savings", "Cashable savings must be an amount in pounds, like 12,500 or 12500.50"}}},
		{"savings missing", func(f *JustificationBenefits) { f.Savings = " " },
			Errors{{"savings", "Enter the cashable savings a year in pounds, or 0 if there are none"}}},
		{"too much", func(f *JustificationBenefits) { f.Savings = "1,000,000,000.01" },
			Errors{{"savings", "Cashable savings must be £1,000,000,000 or less"}}},
		{"hours in words", func(f *JustificationBenefits) { f.Hours = "lots" },
			Errors{{"hours", "Staff hours saved must be a number, like 7.5"}}},
		{"no organisations", func(f *JustificationBenefits) { f.Organisations = "0" },
			Errors{{"organisations", "The number of organisations must be a whole number from 1 to 600"}}},
		{"601 organisations", func(f *JustificationBenefits) { f.Organisations = "601" },
			Errors{{"organisations", "The number of organisations must be a whole number from 1 to 600"}}},
		{"half an organisation", func(f *JustificationBenefits) { f.Organisations = "1.5" },
			Errors{{"organisations", "The number of organisations must be a whole number from 1 to 600"}}},
		{"in page order", func(f *JustificationBenefits) { f.Target, f.Savings, f.QualityBenefits = "", "x", "" }, Errors{
			{"savings", "Cashable savings must be an amount in pounds, like 12,500 or 12500.50"},
			{"quality_benefits", "Describe the quality, safety and experience benefits"},
			{"target", "Enter the target the benefits will be measured against"},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := valid
			c.change(&f)
			got := f.Check(v)
			if len(got) != len(c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Errorf("error %d: %v, want %v", i, got[i], c.want[i])
				}
			}
		})
	}
	f := valid
	if f.Check(v).Any() || f.SavingsPence() != 1250000 || f.HoursPerMonth() != 7.5 || f.OrganisationCount() != 220 {
		t.Errorf("parsed %d %v %d", f.SavingsPence(), f.HoursPerMonth(), f.OrganisationCount())
	}
}

func TestJustificationDatesAndConditions(t *testing.T) {
	v := NewValidator()
	today := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	delivery := func(d, m, y, reason string) JustificationDelivery {
		return JustificationDelivery{Priority: "high", RequiredByDay: d, RequiredByMonth: m, RequiredByYear: y, RequiredByReason: reason,
			RisksOfDoing: "r", RisksOfNotDoing: "n", Workaround: "w"}
	}
	cases := []struct {
		name  string
		f     JustificationDelivery
		field string // the field in error; "" for none
	}{
		{"no date", delivery("", "", "", ""), ""},
		{"future date with reason", delivery("31", "3", "2027", "Audit"), ""},
		{"future date without reason", delivery("31", "3", "2027", ""), "required_by_reason"},
		{"31 February", delivery("31", "2", "2027", "x"), "required_by-day"},
		{"part of a date", delivery("31", "", "2027", "x"), "required_by-day"},
		{"today", delivery("20", "11", "2026", "x"), "required_by-day"},
		{"letters", delivery("first", "march", "2027", "x"), "required_by-day"},
	}
	for _, c := range cases {
		f := c.f
		errs := f.Check(v, []string{"critical", "high", "medium", "low"}, today)
		if c.field == "" && errs.Any() || c.field != "" && errs.Get(c.field) == "" || len(errs) > 1 {
			t.Errorf("%s: %v, want an error on %q", c.name, errs, c.field)
		}
	}
	ok := delivery("31", "03", "2027", "Audit")
	if ok.Check(v, []string{"high"}, today).Any() || ok.RequiredBy() != "2027-03-31" {
		t.Errorf("required by %q", ok.RequiredBy())
	}

	signOff := func(d, m, y string) JustificationSignOff {
		return JustificationSignOff{Name: "Jo Sponsor", Day: d, Month: m, Year: y}
	}
	for _, c := range []struct {
		f    JustificationSignOff
		want string
	}{
		{signOff("20", "11", "2026"), ""},
		{signOff("19", "11", "2026"), ""},
		{signOff("21", "11", "2026"), "The sign-off date must be today or in the past"},
		{signOff("", "", ""), "Enter the date it was signed off"},
		{signOff("30", "2", "2026"), "The sign-off date must be a real date, like 19 11 2026"},
	} {
		f := c.f
		if got := f.Check(v, today).Get("date-day"); got != c.want {
			t.Errorf("sign-off %s/%s/%s: %q, want %q", c.f.Day, c.f.Month, c.f.Year, got, c.want)
		}
	}

	sf := JustificationStrategicFit{Policy: "p", Legislative: "yes"}
	if got := sf.Check(v).Get("legislative_reference"); got == "" {
		t.Error("legislative without a reference is accepted")
	}
	sf = JustificationStrategicFit{Policy: "p", Legislative: "no", LegislativeReference: "left over"}
	if sf.Check(v).Any() || sf.LegislativeReference != "" {
		t.Errorf("not legislative keeps a reference %q", sf.LegislativeReference)
	}
	sf = JustificationStrategicFit{Policy: "p", Legislative: "maybe"}
	if sf.Check(v).Get("legislative") == "" {
		t.Error("an answer that is not yes or no is accepted")
	}
}
