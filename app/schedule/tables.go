package schedule

import "time"

// Table is one of the schedule's tables as the exports write it. A cell is a string, an int or a
// time.Time (a civil date; zero for none).
type Table struct {
	Name    string // the worksheet's name
	Columns []string
	Widths  []float64 // in characters
	Rows    [][]any
}

func dateCell(t time.Time) any {
	if t.IsZero() {
		return time.Time{}
	}
	return t
}

// Tables are the schedule's four tables, in the order the document gives them.
func (d *Document) Tables() []Table {
	releases := Table{Name: "Releases",
		Columns: []string{"Release", "Release name", "Target date", "Release status", "Reference", "Title", "Functional area", "NSIG",
			"Requesting organisation", "Region", "Status"},
		Widths: []float64{9, 22, 13, 14, 15, 60, 24, 36, 44, 24, 22}}
	for _, r := range d.Releases {
		if len(r.Changes) == 0 {
			releases.Rows = append(releases.Rows, []any{r.Label(), r.Name, dateCell(r.TargetDate), r.Status, "", "No changes allocated yet", "", "", "", "", ""})
		}
		for _, c := range r.Changes {
			releases.Rows = append(releases.Rows, []any{r.Label(), r.Name, dateCell(r.TargetDate), r.Status, c.Reference, c.Title,
				c.FunctionalArea, c.NSIG, c.Organisation, c.Region, c.Status})
		}
	}
	justifications := Table{Name: "Business justifications",
		Columns: []string{"Reference", "Title", "Requesting organisation", "Region", "Raised", "Decision or outcome", "Decided", "Rationale"},
		Widths:  []float64{15, 60, 44, 24, 13, 30, 13, 80}}
	for _, j := range d.Justifications {
		justifications.Rows = append(justifications.Rows, []any{j.Reference, j.Title, j.Organisation, j.Region, dateCell(j.RaisedOn),
			j.Outcome, dateCell(j.DecisionDate), j.Rationale})
	}
	delivered := Table{Name: "Delivered",
		Columns: []string{"Reference", "Title", "Release", "Delivered", "Functional area", "Requesting organisation", "Region"},
		Widths:  []float64{15, 60, 9, 13, 24, 44, 24}}
	for _, c := range d.Delivered {
		delivered.Rows = append(delivered.Rows, []any{c.Reference, c.Title, c.Release, dateCell(c.DeliveredOn), c.FunctionalArea, c.Organisation, c.Region})
	}
	moves := Table{Name: "Moved between releases",
		Columns: []string{"Reference", "Title", "From release", "To release", "Moved", "Reason"},
		Widths:  []float64{15, 60, 12, 12, 13, 80}}
	for _, m := range d.Moves {
		moves.Rows = append(moves.Rows, []any{m.Reference, m.Title, m.From, m.To, dateCell(m.MovedOn), m.Reason})
	}
	return []Table{releases, justifications, delivered, moves}
}
