package request

import "testing"

// SetMatchWindows makes the windows of ids a search's newest matches are read from smaller for one
// test, so that a few thousand requests span every part.
func SetMatchWindows(t testing.TB, windows ...int64) {
	old := matchWindows
	matchWindows = windows
	t.Cleanup(func() { matchWindows = old })
}
