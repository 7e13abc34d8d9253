package forms

// SignIn is the sign-in form. The password is never sent back to the page.
type SignIn struct {
	Email    string `form:"email" label:"your email address" validate:"required,email,max=254" errors:"required=Enter your email address"`
	Password string `form:"password" label:"your password" validate:"required,max=1000" errors:"required=Enter your password"`
	Next     string `form:"next" validate:"max=2000"`
}

// User is the administrator's form to create or edit a user.
type User struct {
	Name           string   `form:"name" label:"their full name" validate:"required,max=200"`
	Email          string   `form:"email" label:"their email address" validate:"required,email,max=254"`
	OrganisationID string   `form:"organisation_id" label:"their organisation" validate:"required,numeric" errors:"required=Select their organisation;numeric=Select their organisation from the list"`
	Roles          []string `form:"roles" label:"at least one role" validate:"required,min=1,dive,oneof=requester nsig_member functional_account_manager central_team development_team admin access_approver" errors:"oneof=Select roles from the list"`
	// Why the roles are given or taken away, and who asked: kept in the grant history.
	Reason      string `form:"reason" label:"why their roles change" validate:"max=2000"`
	RequestedBy string `form:"requested_by" label:"who asked for the change" validate:"max=200"`
	Version     int    `form:"version"`
}

// ChangePassword is a user's form to choose a new password.
type ChangePassword struct {
	Current string `form:"current_password" label:"your current password" validate:"required,max=1000" errors:"required=Enter your current password"`
	New     string `form:"new_password" label:"a new password" validate:"required,min=12,max=1000" errors:"min=Your new password must be 12 characters or more"`
	Confirm string `form:"confirm_password" label:"your new password again" validate:"required,eqfield=New" errors:"eqfield=The passwords do not match"`
}

// Passcode is the six-digit code from an authenticator app, at sign-in or to confirm setting one up.
type Passcode struct {
	Code string `form:"code" label:"the code from your authenticator app" validate:"required,max=20" errors:"required=Enter the code from your authenticator app"`
	Next string `form:"next" validate:"max=2000"`
}

// RecoveryCode is one of the single-use recovery codes, typed at sign-in instead of a passcode.
type RecoveryCode struct {
	Code string `form:"code" label:"a recovery code" validate:"required,max=40" errors:"required=Enter one of your recovery codes"`
	Next string `form:"next" validate:"max=2000"`
}

// Reconfirm is a passcode asked for again before a sensitive action, sent with the action's own form.
type Reconfirm struct {
	Code string `form:"_passcode" label:"the code from your authenticator app" validate:"required,max=20" errors:"required=Enter the code from your authenticator app"`
}

// FirstPassword is the form of someone who signed in with a password they were given: they have just
// typed it, so only the new one is asked for.
type FirstPassword struct {
	New     string `form:"new_password" label:"a new password" validate:"required,min=12,max=1000" errors:"min=Your new password must be 12 characters or more"`
	Confirm string `form:"confirm_password" label:"your new password again" validate:"required,eqfield=New" errors:"eqfield=The passwords do not match"`
}

// GrantDecision is an approver's decision on a waiting change of someone's roles: a note, needed to refuse.
type GrantDecision struct {
	Decision string `form:"decision" label:"whether you approve" validate:"required,oneof=approve refuse" errors:"required=Select whether you approve;oneof=Select whether you approve"`
	Note     string `form:"note" label:"a reason" validate:"max=2000"`
}

// AccessRequest is someone's request for an account after signing in with their identity provider.
type AccessRequest struct {
	Name           string `form:"name" label:"your full name" validate:"required,max=200"`
	OrganisationID string `form:"organisation_id" label:"your organisation" validate:"required,numeric" errors:"required=Select your organisation;numeric=Select your organisation from the list"`
	Reason         string `form:"reason" label:"why you need access" validate:"required,max=2000" errors:"required=Enter why you need access to the portal"`
}

// Organisation is an administrator's form to add or change an organisation.
type Organisation struct {
	Name     string `form:"name" label:"its name" validate:"required,max=200" errors:"required=Enter the organisation's name"`
	ODSCode  string `form:"ods_code" label:"its ODS code" validate:"required,max=20" errors:"required=Enter the organisation's ODS code"`
	VPDCode  string `form:"vpd_code" label:"its ESR VPD code" validate:"max=20"`
	RegionID string `form:"region_id" label:"its region" validate:"required,numeric" errors:"required=Select its region;numeric=Select its region from the list"`
	Version  int    `form:"version"`
}

// OrganisationMerge is an administrator's form to merge one organisation into another.
type OrganisationMerge struct {
	IntoID  string `form:"into_id" label:"the organisation it merges into" validate:"required,numeric" errors:"required=Select the organisation it merges into;numeric=Select the organisation it merges into from the list"`
	Confirm string `form:"confirm" label:"that you understand" validate:"required,eq=yes" errors:"required=Confirm that its people and requests move;eq=Confirm that its people and requests move"`
	Version int    `form:"version"`
}

// LeavingDate is the day someone leaves their organisation; all three boxes empty clears it.
type LeavingDate struct {
	Day     string `form:"leaving-day" validate:"max=10"`
	Month   string `form:"leaving-month" validate:"max=10"`
	Year    string `form:"leaving-year" validate:"max=10"`
	Version int    `form:"version"`
}

// RemoveAccess ends someone's access at once, with why.
type RemoveAccess struct {
	Reason string `form:"reason" label:"why" validate:"required,oneof=left_early investigation disciplinary role_changed other" errors:"required=Select why their access ends now;oneof=Select why their access ends now"`
	Detail string `form:"detail" label:"more about why" validate:"max=2000"`
}

// Downtime is an administrator's notice of planned or emergency downtime. Times are UK times, HH:MM.
type Downtime struct {
	Kind       string `form:"kind" label:"what kind of downtime" validate:"required,oneof=planned emergency" errors:"required=Select planned or emergency;oneof=Select planned or emergency"`
	Message    string `form:"message" label:"the message" validate:"required,max=500" errors:"required=Enter the message users will see"`
	StartDay   string `form:"starts-day" validate:"max=10"`
	StartMonth string `form:"starts-month" validate:"max=10"`
	StartYear  string `form:"starts-year" validate:"max=10"`
	StartTime  string `form:"starts-time" validate:"max=10"`
	EndDay     string `form:"ends-day" validate:"max=10"`
	EndMonth   string `form:"ends-month" validate:"max=10"`
	EndYear    string `form:"ends-year" validate:"max=10"`
	EndTime    string `form:"ends-time" validate:"max=10"`
	ShowDays   string `form:"show_days" label:"how many days before" validate:"max=10"`
}

// ReviewMark is a reviewer's decision on one person in an access review.
type ReviewMark struct {
	Decision string `form:"decision" label:"whether their access is still needed" validate:"required,oneof=keep remove" errors:"required=Select still needed or remove;oneof=Select still needed or remove"`
	Reason   string `form:"reason" label:"the reason" validate:"max=2000"`
	Version  int    `form:"version"`
}

// ReviewSignOff signs an access review off as a whole, stating the attestation.
type ReviewSignOff struct {
	Confirm string `form:"confirm" label:"the statement" validate:"required,eq=yes" errors:"required=Confirm the statement to sign the review off;eq=Confirm the statement to sign the review off"`
	Version int    `form:"version"`
}
