// Package forms holds one struct per HTML form, with validator tags, and the one place that turns
// validation failures into the sentences users read.
package forms

// FieldError is one problem with one field. Field is the id of the input the error summary links to.
type FieldError struct {
	Field   string
	Message string
}

// Errors are the problems with a submitted form, in the order the fields appear on the page.
type Errors []FieldError

// Get returns the message for field, or "" when it has none.
func (e Errors) Get(field string) string {
	for _, fe := range e {
		if fe.Field == field {
			return fe.Message
		}
	}
	return ""
}

// Any reports whether there is at least one problem.
func (e Errors) Any() bool { return len(e) > 0 }

// Add appends a problem unless the field already has one (the first message wins).
func (e *Errors) Add(field, message string) {
	if e.Get(field) != "" {
		return
	}
	*e = append(*e, FieldError{Field: field, Message: message})
}
