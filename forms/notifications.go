package forms

// Email frequencies on the notification settings form.
const (
	EmailsImmediately = "immediate"
	EmailsDaily       = "daily"
)

// NotificationSettings is a user's form to choose what they are told about, and how. InApp and Email
// hold the keys of the events ticked in each group; the handler checks them against the known events.
type NotificationSettings struct {
	InApp  []string `form:"in_app" label:"events" validate:"max=100,dive,max=100"`
	Email  []string `form:"email" label:"events" validate:"max=100,dive,max=100"`
	Emails string   `form:"emails" label:"how often we email you" validate:"required,oneof=immediate daily" errors:"required=Select how often we should email you;oneof=Select how often we should email you"`
}
