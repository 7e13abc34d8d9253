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
	Roles          []string `form:"roles" label:"at least one role" validate:"required,min=1,dive,oneof=requester nsig_member functional_account_manager central_team development_team admin" errors:"oneof=Select roles from the list"`
	Version        int      `form:"version"`
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
