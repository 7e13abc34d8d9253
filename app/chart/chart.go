// Package chart lays out the dashboards' bar charts for an SVG template (views/partials/chart.html):
// the coordinates of every bar, label, gridline and legend entry, in a fixed viewBox that the page
// scales to its width. Charts need no JavaScript. Every bar is a link to the requests it counts and
// carries its value as text, each series has its own pattern as well as its colour (never colour
// alone), and the colours are from the NHS palette with at least 3:1 contrast against white.
package chart

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Bar is one bar: its value, the text written at its end, where it links and how it reads aloud.
type Bar struct {
	Value float64
	Text  string // "12", "83%"
	Href  string // the requests it counts; "" for none
	Count int    // how many requests the link lists (data-count)
	Label string // its accessible name, e.g. "London: 12 open requests"
}

// Category is one group of bars, one a series, under one label.
type Category struct {
	Label string
	Bars  []Bar
}

// Series is a set of bars, named in the legend.
type Series struct{ Name string }

// Chart is what a chart shows.
type Chart struct {
	ID         string // unique on the page: the SVG's ids start with it
	Title      string
	Desc       string // a sentence saying what it shows and what stands out
	Series     []Series
	Categories []Category
	Max        float64 // at least this much on the axis; 0 to fit the values
	Percent    bool    // the axis is 0 to 100%
}

// Look is a series' fill: an NHS colour and a pattern.
type Look struct {
	Colour  string
	Pattern string // "solid", "hatch", "dots", "cross"
}

// Looks are the series' fills in order: NHS Blue solid, NHS Purple hatched, NHS Dark Grey dotted, NHS
// Dark Pink cross-hatched. Each has at least 3:1 contrast with white.
var Looks = []Look{{"#005eb8", "solid"}, {"#330072", "hatch"}, {"#425563", "dots"}, {"#7c2855", "cross"}}

// LaidBar is a bar with its coordinates.
type LaidBar struct {
	Bar
	X, Y, W, H   float64
	TextX, TextY float64
	TextAnchor   string
	Fill         string // a colour or url(#pattern)
}

// Tick is a gridline with its label.
type Tick struct {
	X1, Y1, X2, Y2 float64
	TX, TY         float64
	Text           string
	Anchor         string
}

// Label is a category's label.
type Label struct {
	X, Y   float64
	Text   string
	Anchor string
}

// Key is one legend entry.
type Key struct {
	X, Y         float64
	Fill         string
	Name         string
	TextX, TextY float64
}

// Pattern is a fill pattern the chart defines.
type Pattern struct {
	ID, Colour, Kind string
}

// Laid is a chart ready for the template.
type Laid struct {
	Chart
	Width, Height                  float64
	Bars                           []LaidBar
	Ticks                          []Tick
	Labels                         []Label
	Keys                           []Key
	Patterns                       []Pattern
	AxisX1, AxisY1, AxisX2, AxisY2 float64
}

// Geometry, in viewBox units (about pixels at the page's full width).
const (
	width      = 640.0
	charW      = 8.0 // about the width of a character of the labels
	maxLabel   = 32  // longer category labels are cut short in the chart (the bar's name has them whole)
	barH       = 18.0
	barGap     = 4.0
	groupGap   = 12.0
	textW      = 56.0 // room for the value at a bar's end
	top        = 8.0
	legendRowH = 24.0
	axisH      = 24.0
	fontSize   = 15.0
	colW       = 40.0 // a column of a vertical chart, at most
	plotH      = 180.0
)

// named is the bar with its visible text in its accessible name, as WCAG 2.5.3 (label in name) asks.
func named(b Bar) Bar {
	if b.Text != "" && !strings.Contains(b.Label, b.Text) {
		b.Label = b.Text + ": " + b.Label
	}
	return b
}

// fills gives each series its fill and the patterns they need.
func (c Chart) fills() ([]string, []Pattern) {
	n := max(len(c.Series), 1)
	fills := make([]string, n)
	var patterns []Pattern
	for i := range n {
		l := Looks[i%len(Looks)]
		if l.Pattern == "solid" {
			fills[i] = l.Colour
			continue
		}
		id := c.ID + "-pattern-" + strconv.Itoa(i)
		patterns = append(patterns, Pattern{ID: id, Colour: l.Colour, Kind: l.Pattern})
		fills[i] = "url(#" + id + ")"
	}
	return fills, patterns
}

// scale is the axis: its end and the step between gridlines. Percentages go to 100 in steps of 25;
// other values to a round number in at most five whole steps of 1, 2, 2.5 or 5 times a power of ten.
func (c Chart) scale() (end, step float64) {
	if c.Percent {
		return 100, 25
	}
	most := c.Max
	for _, cat := range c.Categories {
		for _, b := range cat.Bars {
			most = math.Max(most, b.Value)
		}
	}
	if most <= 0 {
		return 1, 1
	}
	for p := 1.0; ; p *= 10 {
		for _, m := range []float64{1, 2, 2.5, 5} {
			step = m * p
			if m == 2.5 && p == 1 {
				continue // whole numbers only
			}
			if n := math.Ceil(most / step); n <= 5 {
				return n * step, step
			}
		}
	}
}

// short cuts a label to maxLabel characters.
func short(s string) string {
	r := []rune(s)
	if len(r) <= maxLabel {
		return s
	}
	return string(r[:maxLabel-1]) + "…"
}

func number(v float64, percent bool) string {
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if v != math.Floor(v) {
		s = strconv.FormatFloat(v, 'f', 1, 64)
	}
	if percent {
		return s + "%"
	}
	return s
}

// legend lays out the legend on one row above the plot, when there is more than one series.
func (c Chart) legend(fills []string, x, y float64) ([]Key, float64) {
	if len(c.Series) < 2 {
		return nil, 0
	}
	var keys []Key
	for i, s := range c.Series {
		keys = append(keys, Key{X: x, Y: y, Fill: fills[i], Name: s.Name, TextX: x + 20, TextY: y + 11.5})
		x += 20 + float64(len([]rune(s.Name)))*charW + 24
	}
	return keys, legendRowH
}

// Horizontal lays out a chart of horizontal bars: one row a category, its series' bars under each
// other, labels on the left and the axis underneath.
func Horizontal(c Chart) Laid {
	fills, patterns := c.fills()
	l := Laid{Chart: c, Width: width, Patterns: patterns}
	longest := 4
	for _, cat := range c.Categories {
		longest = max(longest, len([]rune(short(cat.Label))))
	}
	labelW := float64(longest)*charW + 12
	var legendH float64
	l.Keys, legendH = c.legend(fills, labelW, top)
	plotX, plotW := labelW, width-labelW-textW
	end, step := c.scale()
	y := top + legendH
	groupH := func(cat Category) float64 { return float64(len(cat.Bars))*(barH+barGap) - barGap }
	plotTop := y
	for _, cat := range c.Categories {
		h := groupH(cat)
		l.Labels = append(l.Labels, Label{X: labelW - 8, Y: y + h/2 + fontSize*0.35, Text: short(cat.Label), Anchor: "end"})
		for i, b := range cat.Bars {
			w := plotW * math.Min(b.Value, end) / end
			by := y + float64(i)*(barH+barGap)
			lb := LaidBar{Bar: named(b), X: plotX, Y: by, W: math.Max(w, 0), H: barH, TextX: plotX + w + 6, TextY: by + barH/2 + fontSize*0.35,
				TextAnchor: "start", Fill: fills[i%len(fills)]}
			if b.Value > 0 && w < 1.5 {
				lb.W = 1.5 // a small value still shows as a sliver
			}
			l.Bars = append(l.Bars, lb)
		}
		y += h + groupGap
	}
	plotBottom := y - groupGap + 4
	for t := 0.0; t <= end+step/2; t += step {
		x := plotX + plotW*t/end
		l.Ticks = append(l.Ticks, Tick{X1: x, Y1: plotTop - 4, X2: x, Y2: plotBottom, TX: x, TY: plotBottom + 16, Text: number(t, c.Percent), Anchor: "middle"})
	}
	l.AxisX1, l.AxisY1, l.AxisX2, l.AxisY2 = plotX, plotTop-4, plotX, plotBottom
	l.Height = plotBottom + axisH
	return l
}

// Vertical lays out a chart of columns: one category a column group along the bottom, values up the
// left, each column's value above it.
func Vertical(c Chart) Laid {
	fills, patterns := c.fills()
	l := Laid{Chart: c, Width: width, Patterns: patterns}
	const leftW, bottomH = 44.0, 40.0
	var legendH float64
	l.Keys, legendH = c.legend(fills, leftW, top)
	plotTop := top + legendH + 16 // room for the tallest column's value
	plotX, plotW := leftW, width-leftW-8
	end, step := c.scale()
	n := max(len(c.Categories), 1)
	slot := plotW / float64(n)
	series := max(len(c.Series), 1)
	bw := math.Min(colW, (slot-12)/float64(series))
	for i, cat := range c.Categories {
		cx := plotX + slot*float64(i) + slot/2
		l.Labels = append(l.Labels, Label{X: cx, Y: plotTop + plotH + 18, Text: cat.Label, Anchor: "middle"})
		x0 := cx - bw*float64(len(cat.Bars))/2
		for k, b := range cat.Bars {
			h := plotH * math.Min(b.Value, end) / end
			lb := LaidBar{Bar: named(b), X: x0 + bw*float64(k), Y: plotTop + plotH - h, W: bw - 2, H: h,
				TextX: x0 + bw*float64(k) + (bw-2)/2, TextY: plotTop + plotH - h - 5, TextAnchor: "middle", Fill: fills[k%len(fills)]}
			if b.Value > 0 && h < 1.5 {
				lb.H, lb.Y = 1.5, plotTop+plotH-1.5
			}
			l.Bars = append(l.Bars, lb)
		}
	}
	for t := 0.0; t <= end+step/2; t += step {
		y := plotTop + plotH - plotH*t/end
		l.Ticks = append(l.Ticks, Tick{X1: plotX, Y1: y, X2: plotX + plotW, Y2: y, TX: plotX - 6, TY: y + fontSize*0.35, Text: number(t, c.Percent), Anchor: "end"})
	}
	l.AxisX1, l.AxisY1, l.AxisX2, l.AxisY2 = plotX, plotTop+plotH, plotX+plotW, plotTop+plotH
	l.Height = plotTop + plotH + bottomH
	return l
}

// ViewBox is the SVG's viewBox attribute.
func (l Laid) ViewBox() string { return fmt.Sprintf("0 0 %g %g", l.Width, math.Ceil(l.Height)) }
