package app

import (
	"bytes"
	"fmt"
	"html/template"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// selectOptions writes what a browser reads as the same options, values and labels as given, however
// they are spelled, and selects only the one with the value chosen.
func TestSelectOptionsReadBackAsGiven(t *testing.T) {
	opts := []Option{
		{Value: "", Label: "Any organisation"},
		{Value: "12", Label: "Leeds Teaching Hospitals NHS Trust"},
		{Value: `"><script>alert(1)</script>`, Label: `<b>Bold</b> & "quoted" 'single'`},
		{Value: "=cmd|' /C calc'!A0", Label: "Ysbyty Gwynedd – Betsi Cadwaladr ✓"},
		{Value: "12 ", Label: "a near miss"},
	}
	for _, chosen := range []string{"", "12", `"><script>alert(1)</script>`, "none of them"} {
		out := string(selectOptions(opts, chosen))
		if strings.Contains(out, "<script>") || strings.Contains(out, "<b>") {
			t.Fatalf("markup in a value or label was not escaped: %s", out)
		}
		doc, err := html.Parse(strings.NewReader("<select>" + out + "</select>"))
		if err != nil {
			t.Fatal(err)
		}
		var got []Option
		var selected []string
		var walk func(n *html.Node)
		walk = func(n *html.Node) {
			if n.Type == html.ElementNode && n.Data == "option" {
				o := Option{}
				for _, a := range n.Attr {
					switch a.Key {
					case "value":
						o.Value = a.Val
					case "selected":
						selected = append(selected, o.Value)
					}
				}
				if n.FirstChild != nil {
					o.Label = n.FirstChild.Data
				}
				got = append(got, o)
			}
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				walk(c)
			}
		}
		walk(doc)
		if len(got) != len(opts) {
			t.Fatalf("chosen %q: read back %d options, want %d:\n%s", chosen, len(got), len(opts), out)
		}
		for i := range opts {
			if got[i] != opts[i] {
				t.Errorf("chosen %q: option %d reads back as %+v, want %+v", chosen, i, got[i], opts[i])
			}
		}
		want := []string{chosen}
		if chosen == "none of them" {
			want = nil
		}
		if strings.Join(selected, "|") != strings.Join(want, "|") {
			t.Errorf("chosen %q: selected %q", chosen, selected)
		}
	}
}

// BenchmarkSelectOf600 renders a select of 600 organisations, one chosen, as the select partial did
// (a template range over the options) and as it does (selectOptions).
func BenchmarkSelectOf600(b *testing.B) {
	opts := make([]Option, 600)
	for i := range opts {
		opts[i] = Option{Value: strconv.Itoa(i + 1), Label: fmt.Sprintf("Organisation %d NHS Foundation Trust", i+1)}
	}
	ranged := template.Must(template.New("ranged").Parse(`<select>{{- range .Options}}
    <option value="{{.Value}}"{{if eq .Value $.Value}} selected{{end}}>{{.Label}}</option>
    {{- end}}</select>`))
	written := template.Must(template.New("written").Funcs(template.FuncMap{"selectOptions": selectOptions}).
		Parse(`<select>{{selectOptions .Options .Value}}</select>`))
	data := map[string]any{"Options": opts, "Value": "300"}
	for _, tc := range []struct {
		name string
		t    *template.Template
	}{{"template_range", ranged}, {"selectOptions", written}} {
		b.Run(tc.name, func(b *testing.B) {
			var buf bytes.Buffer
			for b.Loop() {
				buf.Reset()
				if err := tc.t.Execute(&buf, data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
