package forms

// Release is the central team's form to add or change a release. The number, date and capacity are
// parsed by the handler, which words their errors; Status is planned or in_progress, and is absent for
// a release that has gone live.
type Release struct {
	Number       string `form:"number" label:"the release number" validate:"required,max=9" errors:"required=Enter the release number, like 74;max=Enter the release number, like 74"`
	Name         string `form:"name" label:"the release name" validate:"required,max=200" errors:"required=Enter the release name, like March 2027;max=The name must be 200 characters or fewer"`
	TargetDay    string `form:"target_date-day"`
	TargetMonth  string `form:"target_date-month"`
	TargetYear   string `form:"target_date-year"`
	Status       string `form:"status" validate:"omitempty,oneof=planned in_progress" errors:"oneof=Select planned or in progress"`
	CapacityDays string `form:"capacity_days" validate:"max=12" errors:"max=Enter the capacity in effort days, like 120 or 87.5"`
	Version      int    `form:"version"`
}

// MoveRelease is the central team's form to move an allocated request to another release.
type MoveRelease struct {
	Version   int    `form:"version"`
	ReleaseID string `form:"release_id" validate:"required,numeric" errors:"required=Select the release to move it to;numeric=Select the release to move it to"`
	Reason    string `form:"reason" label:"why it is moving" validate:"required,max=2000" errors:"required=Enter why it is moving to another release;max=The reason must be 2000 characters or fewer"`
}
