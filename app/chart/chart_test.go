package chart

import (
	"strings"
	"testing"
)

// TestScale: counts get whole, round steps; percentages 0 to 100 in quarters.
func TestScale(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		most, end, step float64
		percent         bool
	}{
		{0, 1, 1, false}, {1, 1, 1, false}, {3, 3, 1, false}, {7, 8, 2, false}, {12, 15, 5, false},
		{48, 50, 10, false}, {90, 100, 20, false}, {101, 125, 25, false}, {4999, 5000, 1000, false}, {37, 100, 25, true},
	} {
		ch := Chart{Percent: c.percent, Categories: []Category{{Label: "A", Bars: []Bar{{Value: c.most}}}}}
		if end, step := ch.scale(); end != c.end || step != c.step {
			t.Errorf("largest %g: axis to %g in steps of %g, want %g in steps of %g", c.most, end, step, c.end, c.step)
		}
	}
}

// TestHorizontalLayout: bars as long as their values, inside the viewBox, each series with its own
// pattern and a legend, every bar named with the text it shows.
func TestHorizontalLayout(t *testing.T) {
	t.Parallel()
	l := Horizontal(Chart{ID: "c", Series: []Series{{"Median"}, {"90th percentile"}}, Categories: []Category{
		{Label: "Impact assessment", Bars: []Bar{{Value: 10, Text: "10", Label: "median 10"}, {Value: 20, Text: "20", Label: "p90"}}},
		{Label: "A category whose label is far too long to show whole", Bars: []Bar{{Value: 0, Text: "0", Label: "nothing"}, {Value: 5, Text: "5", Label: "5 of them"}}},
	}})
	if len(l.Bars) != 4 || len(l.Keys) != 2 || len(l.Patterns) != 1 || l.Patterns[0].ID != "c-pattern-1" {
		t.Fatalf("bars %d, keys %d, patterns %+v", len(l.Bars), len(l.Keys), l.Patterns)
	}
	if l.Bars[1].W != 2*l.Bars[0].W || l.Bars[2].W != 0 {
		t.Errorf("bar widths %g, %g, %g are not in proportion to 10, 20 and 0", l.Bars[0].W, l.Bars[1].W, l.Bars[2].W)
	}
	if l.Bars[0].Fill != "#005eb8" || l.Bars[1].Fill != "url(#c-pattern-1)" {
		t.Errorf("fills %q and %q", l.Bars[0].Fill, l.Bars[1].Fill)
	}
	for _, b := range l.Bars {
		if b.X < 0 || b.X+b.W > l.Width || b.Y < 0 || b.Y+b.H > l.Height {
			t.Errorf("bar %+v is outside the %gx%g chart", b, l.Width, l.Height)
		}
		if !strings.Contains(b.Label, b.Text) {
			t.Errorf("the bar showing %q is named %q", b.Text, b.Label)
		}
	}
	if got := l.Labels[1].Text; len([]rune(got)) != maxLabel || !strings.HasSuffix(got, "…") {
		t.Errorf("a long label is shown as %q", got)
	}
	if !strings.HasPrefix(l.ViewBox(), "0 0 640 ") || l.Height < 2*(barH+barGap) {
		t.Errorf("view box %q for two categories of two bars", l.ViewBox())
	}
}

// TestVerticalLayout: columns rise from the axis in proportion to their values, the percent axis in
// five gridlines from 0% to 100%.
func TestVerticalLayout(t *testing.T) {
	t.Parallel()
	l := Vertical(Chart{ID: "v", Percent: true, Categories: []Category{
		{Label: "Jan", Bars: []Bar{{Value: 100, Text: "100%", Label: "all on time"}}},
		{Label: "Feb", Bars: []Bar{{Value: 50, Text: "50%", Label: "half on time"}}},
	}})
	if len(l.Ticks) != 5 || l.Ticks[0].Text != "0%" || l.Ticks[4].Text != "100%" {
		t.Fatalf("ticks %+v", l.Ticks)
	}
	if l.Bars[0].H != 2*l.Bars[1].H || l.Bars[0].Y+l.Bars[0].H != l.AxisY1 || l.Bars[1].Y+l.Bars[1].H != l.AxisY1 {
		t.Errorf("columns %+v and %+v do not stand on the axis at %g in proportion", l.Bars[0], l.Bars[1], l.AxisY1)
	}
	if l.Bars[0].Label != "100%: all on time" {
		t.Errorf("a column showing 100%% is named %q", l.Bars[0].Label)
	}
}
