package pdf

import (
	"bytes"
	_ "embed"
	"strings"
	"sync"
	"unicode"

	"golang.org/x/image/font/sfnt"
)

// Liberation Sans 2.1.5 (fonts/LICENSE: SIL Open Font License 1.1), metric-compatible with Arial, the NHS
// design system's fallback for Frutiger: a UTF-8 TrueType family with the Latin, Welsh (ŵ, ŷ) and currency
// (£, €) characters the schedule needs, embedded in every PDF (subset to the characters used).
var (
	//go:embed fonts/LiberationSans-Regular.ttf
	liberationRegular []byte
	//go:embed fonts/LiberationSans-Bold.ttf
	liberationBold []byte
	//go:embed fonts/LiberationSans-Italic.ttf
	liberationItalic []byte
)

type fontSet struct{ regular, bold, italic []byte }

// loadFonts gives each render its own copy of the font files: gofpdf's subsetting appends padding to
// slices of the file it was given, which would write into the shared embedded arrays and race when two
// schedules render at once.
func loadFonts() fontSet {
	return fontSet{regular: bytes.Clone(liberationRegular), bold: bytes.Clone(liberationBold), italic: bytes.Clone(liberationItalic)}
}

// glyphTable says which runes of the Basic Multilingual Plane every style of the font can draw.
type glyphTable struct{ ok []bool }

var (
	glyphOnce sync.Once
	glyphSet  glyphTable
)

func glyphs() glyphTable {
	glyphOnce.Do(func() {
		ok := make([]bool, 0x10000)
		for i := range ok {
			ok[i] = true
		}
		for _, data := range [][]byte{liberationRegular, liberationBold, liberationItalic} {
			fnt, err := sfnt.Parse(data)
			if err != nil {
				panic("schedule pdf: the embedded Liberation Sans font does not parse: " + err.Error())
			}
			var buf sfnt.Buffer
			for i := range ok {
				if !ok[i] {
					continue
				}
				if gi, err := fnt.GlyphIndex(&buf, rune(i)); err != nil || gi == 0 {
					ok[i] = false
				}
			}
		}
		glyphSet = glyphTable{ok: ok}
	})
	return glyphSet
}

func (g glyphTable) has(r rune) bool { return r >= 0 && int(r) < len(g.ok) && g.ok[r] }

// clean makes text safe to draw: line ends become "\n", tabs become spaces, other control and format
// characters go, and a character the font cannot draw (an emoji, say) becomes "?" rather than a blank box.
func (r *renderer) clean(s string) string {
	simple := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\n' || c >= 0x7f {
			simple = false
			break
		}
	}
	if simple {
		return s
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	var b strings.Builder
	b.Grow(len(s))
	for _, c := range s {
		switch {
		case c == '\n' || c == ' ':
			b.WriteRune(c)
		case c == '\r':
			b.WriteByte('\n')
		case c == '\t' || unicode.IsSpace(c):
			b.WriteByte(' ')
		case unicode.IsControl(c) || unicode.Is(unicode.Cf, c):
		case c == unicode.ReplacementChar || !r.available(c):
			b.WriteByte('?')
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

// split wraps text to a column w millimetres wide (cell padding included) in the current font.
func (r *renderer) split(s string, w float64) []string {
	s = strings.TrimSpace(r.clean(s))
	if s == "" {
		return nil
	}
	return r.f.SplitText(s, w)
}

// fit shortens text with an ellipsis so that it fits on one line w millimetres wide.
func (r *renderer) fit(s string, w float64) string {
	s = strings.Join(strings.Fields(r.clean(s)), " ")
	if r.f.GetStringWidth(s) <= w {
		return s
	}
	// The longest prefix that fits with the ellipsis, found by halving.
	runes := []rune(s)
	lo, hi := 0, len(runes)
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if r.f.GetStringWidth(string(runes[:mid])+"…") <= w {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return strings.TrimSpace(string(runes[:lo])) + "…"
}
