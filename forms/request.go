package forms

// RequestAction is the form of a lifecycle action on a request: the version the page was made from,
// and what the action needs (a question, answer, explanation or reason; an outcome code; the original
// of a duplicate).
type RequestAction struct {
	Version     int    `form:"version"`
	Text        string `form:"text" label:"the details" validate:"max=5000"`
	Reason      string `form:"reason" validate:"max=50"`
	DuplicateOf string `form:"duplicate_of" label:"the original request's reference" validate:"max=20"`
	ReviewDay   string `form:"review_on-day"`
	ReviewMonth string `form:"review_on-month"`
	ReviewYear  string `form:"review_on-year"`
	ReleaseID   string `form:"release_id" validate:"omitempty,numeric" errors:"numeric=Select the release"`
	Summary     string `form:"summary" label:"what it asks for" validate:"max=600"`
}

// PublicSummary is the central team's form for the summary every organisation reads of a request.
type PublicSummary struct {
	Version int    `form:"version"`
	Summary string `form:"summary" label:"what it asks for" validate:"required,max=600" errors:"required=Enter what the request asks for, for other organisations to read"`
}

// Comment is the comment form on a request page.
type Comment struct {
	Body     string `form:"body" label:"your comment" validate:"required,max=5000" errors:"required=Enter your comment"`
	Internal bool   `form:"internal"`
}

// Support is an organisation's support for another organisation's request.
type Support struct {
	Note string `form:"note" label:"your note" validate:"max=2000" errors:"max=Your note must be 2000 characters or fewer"`
}

// Assign is the central team's form to choose a request's triager and NSIG.
type Assign struct {
	Version    int    `form:"version"`
	AssigneeID string `form:"assignee_id" validate:"omitempty,numeric" errors:"numeric=Select a member of the central team"`
	NSIGID     string `form:"nsig_id" validate:"omitempty,numeric" errors:"numeric=Select an NSIG from the list"`
}

// LinkAction is the confirmation page of an action link from an email: what its action needs. The
// version is the link's own, never the form's. An action uses the fields it needs: a rationale,
// reason, question, answer or comment (text); an outcome reason code and a duplicate's original; a
// review date; the public summary; the region an endorsement is for.
type LinkAction struct {
	Text        string `form:"text" label:"the details" validate:"max=5000"`
	Reason      string `form:"reason" validate:"max=50"`
	DuplicateOf string `form:"duplicate_of" label:"the original request's reference" validate:"max=20"`
	ReviewDay   string `form:"review_on-day" validate:"max=10"`
	ReviewMonth string `form:"review_on-month" validate:"max=10"`
	ReviewYear  string `form:"review_on-year" validate:"max=10"`
	Summary     string `form:"summary" label:"what it asks for" validate:"max=600"`
	Region      string `form:"region" validate:"omitempty,numeric,max=5" errors:"numeric=Select the region whose SIG you are endorsing it for"`
}
