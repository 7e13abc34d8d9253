package request

import "testing"

// SetMatchWindows makes the windows of ids a search's newest matches are read from smaller for one
// test, so that a few thousand requests span every part.
func SetMatchWindows(t testing.TB, windows ...int64) {
	old := matchWindows
	matchWindows = windows
	t.Cleanup(func() { matchWindows = old })
}

// SetCommonSearch changes for one test when a search is taken to be common (commonSearch): when at
// least matches of the newest probe ids match it; the newest walk ids are then walked.
func SetCommonSearch(t testing.TB, probe, matches, walk int64) {
	old := commonSearch
	commonSearch.probe, commonSearch.matches, commonSearch.walk = probe, matches, walk
	t.Cleanup(func() { commonSearch = old })
}
