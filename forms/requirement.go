package forms

// Requirement is the requirement definition's edit form: the text, and the version it was based on
// (0 when there was none), so that a save made after someone else's is caught as a conflict.
type Requirement struct {
	BaseVersion int    `form:"base_version"`
	Body        string `form:"body" validate:"required,max=20000" errors:"required=Enter the requirement definition;max=The requirement definition must be 20000 characters or fewer"`
}

// Check tidies and validates the form.
func (f *Requirement) Check(v *Validator) Errors {
	f.Body = tidy(f.Body)
	return v.Check(f)
}

// RequirementAgree is the form that agrees the version it shows.
type RequirementAgree struct {
	Version int `form:"version"`
}
