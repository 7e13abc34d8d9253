package identity

import (
	"testing"
	"time"
)

func TestReviewPeriod(t *testing.T) {
	for _, c := range []struct {
		day    string
		months int
		want   string
	}{
		{"2026-01-01", 6, "2026-01"}, {"2026-06-30", 6, "2026-01"}, {"2026-07-01", 6, "2026-07"}, {"2026-12-31", 6, "2026-07"},
		{"2026-05-15", 3, "2026-04"}, {"2026-12-01", 12, "2026-01"}, {"2026-09-09", 1, "2026-09"}, {"2026-08-31", 4, "2026-05"},
		{"2026-03-01", 0, "2026-01"},
	} {
		d, err := time.Parse(time.DateOnly, c.day)
		if err != nil {
			t.Fatal(err)
		}
		if got := ReviewPeriod(d, c.months); got != c.want {
			t.Errorf("ReviewPeriod(%s, %d) = %s, want %s", c.day, c.months, got, c.want)
		}
	}
}
