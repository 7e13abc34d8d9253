package forms

// NSIG is the central team's form to add or change an NSIG.
type NSIG struct {
	Name            string   `form:"name" label:"the NSIG's name" validate:"required,max=200" errors:"required=Enter the NSIG's name;max=The name must be 200 characters or fewer"`
	FunctionalAreas []string `form:"functional_areas" validate:"required,max=20,dive,max=100" errors:"required=Select the functional areas the NSIG covers;max=Select functional areas from the list"`
	ChairUserID     string   `form:"chair_user_id" validate:"omitempty,numeric" errors:"numeric=Select the chair from the list"`
	Status          string   `form:"status" validate:"required,oneof=active inactive" errors:"required=Select whether the NSIG is active or inactive;oneof=Select whether the NSIG is active or inactive"`
	Version         int      `form:"version"`
}

// Appointment is the central team's form to fill a member's or deputy's place in an NSIG's regional
// seat. The dates are parsed by the handler. ConfirmOtherNSIG and OtherNSIGReason appear once the
// portal has warned that the person already sits on another NSIG.
type Appointment struct {
	Position         string `form:"position" validate:"required,oneof=member deputy" errors:"required=Select member or deputy;oneof=Select member or deputy"`
	Email            string `form:"email" label:"their email address" validate:"required,max=254,email" errors:"required=Enter the email address of the person nominated;email=Enter an email address in the correct format, like name@example.nhs.uk;max=Enter an email address in the correct format, like name@example.nhs.uk"`
	NominatingSIG    string `form:"nominating_sig" label:"the nominating regional SIG" validate:"required,max=200" errors:"required=Enter the regional SIG that nominated them;max=The regional SIG must be 200 characters or fewer"`
	NominatedDay     string `form:"nominated_on-day"`
	NominatedMonth   string `form:"nominated_on-month"`
	NominatedYear    string `form:"nominated_on-year"`
	HowChosen        string `form:"how_chosen" validate:"required,oneof=election unopposed consensus" errors:"required=Select how the regional SIG chose them;oneof=Select how the regional SIG chose them"`
	TermStartDay     string `form:"term_start-day"`
	TermStartMonth   string `form:"term_start-month"`
	TermStartYear    string `form:"term_start-year"`
	TermEndDay       string `form:"term_end-day"`
	TermEndMonth     string `form:"term_end-month"`
	TermEndYear      string `form:"term_end-year"`
	ConfirmOtherNSIG string `form:"confirm_other_nsig" validate:"omitempty,oneof=yes" errors:"oneof=Confirm the appointment"`
	OtherNSIGReason  string `form:"other_nsig_reason" label:"why" validate:"max=2000" errors:"max=The reason must be 2000 characters or fewer"`
	// ConfirmOtherRegion and OtherRegionReason appear once the portal has warned that the person's
	// organisation is in another region than the seat's.
	ConfirmOtherRegion string `form:"confirm_other_region" validate:"omitempty,oneof=yes" errors:"oneof=Confirm the appointment"`
	OtherRegionReason  string `form:"other_region_reason" label:"why" validate:"max=2000" errors:"max=The reason must be 2000 characters or fewer"`
}

// EndTerm is the central team's form to end a member's or deputy's term.
type EndTerm struct {
	Reason string `form:"reason" label:"why the term is ending" validate:"required,max=2000" errors:"required=Enter why the term is ending;max=The reason must be 2000 characters or fewer"`
}

// RegionalView is a seat holder's form to give their region's view of a request.
type RegionalView struct {
	View    string `form:"view" validate:"required,oneof=support support_with_concerns do_not_support no_view" errors:"required=Select your region's view;oneof=Select your region's view"`
	Comment string `form:"comment" label:"your region's comment" validate:"max=5000" errors:"max=The comment must be 5000 characters or fewer"`
}

// Meeting is the central team's form to schedule an NSIG meeting. The date and time are parsed by the
// handler.
type Meeting struct {
	Day       string `form:"date-day"`
	Month     string `form:"date-month"`
	Year      string `form:"date-year"`
	Time      string `form:"time" validate:"required,max=10" errors:"required=Enter the start time, like 14:00;max=Enter the start time like 14:00 or 2pm"`
	Duration  string `form:"duration" validate:"required,oneof=30 60 90 120 180" errors:"required=Select how long the meeting lasts;oneof=Select how long the meeting lasts"`
	TeamsLink string `form:"teams_link" label:"the Teams link" validate:"required,max=2000" errors:"required=Enter the Microsoft Teams meeting link;max=The link must be 2000 characters or fewer"`
	Purpose   string `form:"purpose" validate:"required,oneof=member_items central_update" errors:"required=Select what the meeting is for;oneof=Select what the meeting is for"`
	// With are the other NSIGs holding a joint session, by id.
	With []string `form:"with" validate:"max=10,dive,numeric" errors:"max=Select at most 10 other NSIGs;numeric=Select NSIGs from the list"`
}

// AgendaItem is a member's or the central team's request for an item at an NSIG meeting.
type AgendaItem struct {
	Title       string `form:"title" label:"the title" validate:"required,max=200" errors:"required=Enter a title for the agenda item;max=The title must be 200 characters or fewer"`
	Description string `form:"description" label:"the description" validate:"max=5000" errors:"max=The description must be 5000 characters or fewer"`
	References  string `form:"references" label:"the linked requests" validate:"max=500" errors:"max=Link at most 20 requests"`
}

// Minutes is the minutes form of one agenda item.
type Minutes struct {
	Minutes string `form:"minutes" label:"the minutes" validate:"max=20000"`
	Outcome string `form:"outcome" label:"the outcome" validate:"max=5000"`
}

// MeetingAction is the form to record an action agreed at a meeting. The due date is parsed by the
// handler.
type MeetingAction struct {
	Description string `form:"description" label:"the action" validate:"required,max=2000" errors:"required=Enter the action;max=The action must be 2000 characters or fewer"`
	OwnerID     string `form:"owner_id" validate:"required,numeric" errors:"required=Select who owns the action;numeric=Select who owns the action"`
	DueDay      string `form:"due_on-day"`
	DueMonth    string `form:"due_on-month"`
	DueYear     string `form:"due_on-year"`
}

// Project is the central team's form to add or change a linked project.
type Project struct {
	Name           string `form:"name" label:"the project's name" validate:"required,max=200" errors:"required=Enter the project's name;max=The name must be 200 characters or fewer"`
	Description    string `form:"description" label:"the description" validate:"max=5000" errors:"max=The description must be 5000 characters or fewer"`
	FunctionalArea string `form:"functional_area" validate:"required,max=100" errors:"required=Select the functional area the project changes;max=Select the functional area the project changes"`
	Status         string `form:"status" validate:"omitempty,oneof=planned in_progress closed" errors:"oneof=Select planned, in progress or closed"`
	Version        int    `form:"version"`
}

// Handover is the central team's form to hand a linked project to an NSIG as it moves into business as
// usual. The date is parsed by the handler.
type Handover struct {
	NSIGID  string `form:"nsig_id" validate:"required,numeric" errors:"required=Select the NSIG that takes it on;numeric=Select the NSIG that takes it on"`
	Day     string `form:"on-day"`
	Month   string `form:"on-month"`
	Year    string `form:"on-year"`
	Note    string `form:"note" label:"the hand-over note" validate:"required,max=2000" errors:"required=Enter a hand-over note: what the NSIG takes on;max=The note must be 2000 characters or fewer"`
	Version int    `form:"version"`
}

// RegionalUpdate is the period a regional SIG update covers; the handler parses the dates.
type RegionalUpdate struct {
	FromDay   string `form:"from-day" query:"from-day"`
	FromMonth string `form:"from-month" query:"from-month"`
	FromYear  string `form:"from-year" query:"from-year"`
	ToDay     string `form:"to-day" query:"to-day"`
	ToMonth   string `form:"to-month" query:"to-month"`
	ToYear    string `form:"to-year" query:"to-year"`
}
