package forms

import (
	"strings"
	"unicode/utf8"
)

// Replacement is the character that stands in for one the portal cannot store (U+FFFD, "�"): what
// Clean puts in place of invalid UTF-8, NUL and other control characters.
const Replacement = '\uFFFD'

// unstorable reports whether r may not be kept in text: control characters other than tab, line feed
// and carriage return (PostgreSQL refuses NUL; XML, and so Excel files, refuse the rest), the
// noncharacters U+FFFE and U+FFFF, and U+FFFD itself, which invalid UTF-8 decodes to.
func unstorable(r rune) bool {
	return (r < ' ' && r != '\t' && r != '\n' && r != '\r') || r == 0x7f || r == Replacement || r == 0xfffe || r == 0xffff
}

// Storable reports whether s is valid UTF-8 without a character the portal cannot store.
func Storable(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, unstorable)
}

// Clean returns s with each byte of invalid UTF-8 and each character the portal cannot store replaced
// by Replacement, so that it can be shown back and searched safely; s itself when it is storable.
func Clean(s string) string {
	if Storable(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if unstorable(r) { // utf8.RuneError for an invalid byte, with size 1
			r = Replacement
		}
		b.WriteRune(r)
		i += size
	}
	return b.String()
}

// unstorableMessage is the error of a field holding such a character; the field shows it as "�".
const unstorableMessage = "Remove the character shown as � (it cannot be saved)"
