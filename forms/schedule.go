package forms

// SchedulePreview is the central team's choice of the quarter a Development Schedule is for and the date
// it is published. The handler parses the date and words its errors.
type SchedulePreview struct {
	Quarter string `form:"quarter" query:"quarter" validate:"required" errors:"required=Select the quarter the schedule is for"`
	Day     string `form:"date-day" query:"date-day"`
	Month   string `form:"date-month" query:"date-month"`
	Year    string `form:"date-year" query:"date-year"`
}

// SchedulePublish publishes the previewed schedule. Based is the quarter's latest version when the
// preview was shown (0 for none); a correction needs a note of what changed.
type SchedulePublish struct {
	SchedulePreview
	Based      int    `form:"based"`
	ChangeNote string `form:"change_note" label:"what changed" validate:"max=2000" errors:"max=What changed must be 2000 characters or fewer"`
	// Public holds "yes" when the new version becomes the one shown without sign-in (ticked at first).
	Public []string `form:"public"`
}

// MakesPublic reports whether the form asks for the new version to become the public one.
func (f *SchedulePublish) MakesPublic() bool {
	for _, v := range f.Public {
		if v == "yes" {
			return true
		}
	}
	return false
}
