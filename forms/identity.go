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
