// Package problem names the failures that the HTTP layer turns into their own pages: a record that does
// not exist or may not be seen (404), an action the user may not take (403), and an edit made against a
// version of a record that has since changed (409). Domain packages wrap these with %w.
package problem

import "errors"

var (
	// ErrNotFound: the record does not exist, or the user may not know that it does.
	ErrNotFound = errors.New("not found")
	// ErrForbidden: the user may see the record but not do this to it.
	ErrForbidden = errors.New("forbidden")
	// ErrConflict: someone else changed the record after the form was opened.
	ErrConflict = errors.New("changed by someone else")
)
