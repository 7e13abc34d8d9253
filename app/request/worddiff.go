package request

import (
	"regexp"
	"strings"
)

// DiffWord is one run of words in a changed line of a comparison.
type DiffWord struct {
	Op   string // "same", "added" or "removed"
	Text string
}

// wordPattern splits a line into words (letters, digits and what joins them), runs of spaces, and
// single other characters, so that a comparison marks the words that changed and keeps the rest.
var wordPattern = regexp.MustCompile(`[\p{L}\p{N}_'’-]+|\s+|[^\p{L}\p{N}_'’\s-]`)

// WordDiff compares two texts as Diff does, line by line, and then compares each line that was
// changed (a removed line followed by the added line that replaces it) word by word: such a pair
// becomes one line of Op "changed" whose Words say which words were removed and which added. A line
// with nothing in common with the one after it stays removed or added whole.
func WordDiff(a, b string) []DiffLine {
	lines := Diff(a, b)
	out := make([]DiffLine, 0, len(lines))
	for i := 0; i < len(lines); {
		if lines[i].Op != "removed" {
			out = append(out, lines[i])
			i++
			continue
		}
		// A run of removed lines, then the run of added lines after it: pair them in order.
		r := i
		for r < len(lines) && lines[r].Op == "removed" {
			r++
		}
		ad := r
		for ad < len(lines) && lines[ad].Op == "added" {
			ad++
		}
		removed, added := lines[i:r], lines[r:ad]
		var rest []DiffLine
		for k := 0; k < max(len(removed), len(added)); k++ {
			switch {
			case k < len(removed) && k < len(added):
				if words, ok := diffWords(removed[k].Text, added[k].Text); ok {
					out = append(out, DiffLine{Op: "changed", Text: added[k].Text, Words: words})
				} else {
					out = append(out, removed[k])
					rest = append(rest, added[k])
				}
			case k < len(removed):
				out = append(out, removed[k])
			default:
				rest = append(rest, added[k])
			}
		}
		out = append(out, rest...)
		i = ad
	}
	return out
}

// diffWords compares two lines word by word; ok is false when they share no word, or are too long
// to compare.
func diffWords(a, b string) ([]DiffWord, bool) {
	x, y := wordPattern.FindAllString(a, -1), wordPattern.FindAllString(b, -1)
	if len(x)*len(y) > maxDiffCells/16 {
		return nil, false
	}
	lcs := make([][]int, len(x)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(y)+1)
	}
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []DiffWord
	common := false
	push := func(op, text string) {
		if n := len(out); n > 0 && out[n-1].Op == op {
			out[n-1].Text += text
			return
		}
		out = append(out, DiffWord{Op: op, Text: text})
	}
	i, j := 0, 0
	for i < len(x) || j < len(y) {
		switch {
		case i < len(x) && j < len(y) && x[i] == y[j]:
			push("same", x[i])
			common = common || strings.TrimSpace(x[i]) != ""
			i, j = i+1, j+1
		case i < len(x) && (j == len(y) || lcs[i+1][j] >= lcs[i][j+1]):
			push("removed", x[i])
			i++
		default:
			push("added", y[j])
			j++
		}
	}
	return tidyWords(out), common
}

// tidyWords folds a space kept between two changes into them, and puts each run of changes as its
// removed words then its added words, so that "a b" replaced by "c d" reads as one removal and one
// addition rather than four pieces.
func tidyWords(in []DiffWord) []DiffWord {
	between := func(k int) bool { // a space kept between two changes
		return in[k].Op == "same" && strings.TrimSpace(in[k].Text) == "" && k > 0 && k+1 < len(in) &&
			in[k-1].Op != "same" && in[k+1].Op != "same"
	}
	var out []DiffWord
	push := func(op, text string) {
		if text == "" {
			return
		}
		if n := len(out); n > 0 && out[n-1].Op == op {
			out[n-1].Text += text
			return
		}
		out = append(out, DiffWord{Op: op, Text: text})
	}
	for k := 0; k < len(in); {
		if in[k].Op == "same" {
			push("same", in[k].Text)
			k++
			continue
		}
		var removed, added strings.Builder
		for ; k < len(in) && (in[k].Op != "same" || between(k)); k++ {
			switch in[k].Op {
			case "removed":
				removed.WriteString(in[k].Text)
			case "added":
				added.WriteString(in[k].Text)
			default:
				removed.WriteString(in[k].Text)
				added.WriteString(in[k].Text)
			}
		}
		// A space both sides end with is kept, not changed.
		r, a := removed.String(), added.String()
		space := ""
		if r != "" && a != "" {
			for len(r) > 0 && len(a) > 0 && r[len(r)-1] == a[len(a)-1] && (r[len(r)-1] == ' ' || r[len(r)-1] == '\t') {
				space = r[len(r)-1:] + space
				r, a = r[:len(r)-1], a[:len(a)-1]
			}
		}
		push("removed", r)
		push("added", a)
		push("same", space)
	}
	return out
}
