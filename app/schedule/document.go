// Package schedule builds the quarterly Development Schedule (ESR-NHS0132 section 7): the releases in the
// coming period with their changes, every business justification raised in the six calendar months before
// publication with its decision or current outcome, the changes delivered since the previous schedule and
// the changes moved between releases. Build reads it from PostgreSQL into a Document of plain values;
// rendering (the PDF in schedule/pdf, the HTML view, the exports) works from a Document alone, so a
// published version can be shown again from its stored snapshot.
package schedule

import (
	"fmt"
	"regexp"
	"strconv"
	"time"
)

// Quarter is an NHS financial quarter: the financial year runs from 1 April, so Quarter 1 2026/27 is April to
// June 2026 and Quarter 4 2026/27 is January to March 2027. Year is the calendar year the financial year starts in.
type Quarter struct {
	Year int `json:"year"`
	Q    int `json:"q"`
}

var quarterPattern = regexp.MustCompile(`^(\d{4})-Q([1-4])$`)

// ParseQuarter reads a quarter written as "2026-Q3" (Quarter 3 of 2026/27).
func ParseQuarter(s string) (Quarter, error) {
	m := quarterPattern.FindStringSubmatch(s)
	if m == nil {
		return Quarter{}, fmt.Errorf("quarter %q: write it as the year the financial year starts and the quarter, such as 2026-Q3", s)
	}
	year, _ := strconv.Atoi(m[1])
	q, _ := strconv.Atoi(m[2])
	if year < 2000 || year > 2099 {
		return Quarter{}, fmt.Errorf("quarter %q: the year must be between 2000 and 2099", s)
	}
	return Quarter{Year: year, Q: q}, nil
}

// QuarterOf is the financial quarter a date falls in.
func QuarterOf(d time.Time) Quarter {
	m := int(d.Month())
	if m >= 4 {
		return Quarter{Year: d.Year(), Q: (m-4)/3 + 1}
	}
	return Quarter{Year: d.Year() - 1, Q: 4}
}

// String is the quarter's code, such as "2026-Q3".
func (q Quarter) String() string { return fmt.Sprintf("%d-Q%d", q.Year, q.Q) }

// Label is how people write the quarter, such as "Quarter 3 2026/27".
func (q Quarter) Label() string {
	return fmt.Sprintf("Quarter %d %d/%02d", q.Q, q.Year, (q.Year+1)%100)
}

// Start is the quarter's first day.
func (q Quarter) Start() time.Time {
	return time.Date(q.Year, time.Month(4+3*(q.Q-1)), 1, 0, 0, 0, 0, time.UTC)
}

// End is the quarter's last day.
func (q Quarter) End() time.Time { return q.Start().AddDate(0, 3, -1) }

// Previous is the quarter before.
func (q Quarter) Previous() Quarter {
	if q.Q == 1 {
		return Quarter{Year: q.Year - 1, Q: 4}
	}
	return Quarter{Year: q.Year, Q: q.Q - 1}
}

// Document is everything one version of a Development Schedule says, in plain values. Dates are civil
// dates (midnight UTC) in the Europe/London calendar. It is stored as JSON with every published version.
type Document struct {
	Title           string    `json:"title"`     // "ESR Development Schedule"
	Reference       string    `json:"reference"` // the document reference, such as "ESR-DS-2026-Q3"
	Quarter         Quarter   `json:"quarter"`
	QuarterLabel    string    `json:"quarter_label"` // "Quarter 3 2026/27"
	PublicationDate time.Time `json:"publication_date"`
	Version         int       `json:"version"`         // 1 for the first publication of a quarter
	ChangeNote      string    `json:"change_note"`     // what changed since the previous version of the quarter
	Author          string    `json:"author"`          // the publishing team, such as "ESR Central Team"
	Draft           bool      `json:"draft,omitempty"` // a preview, not a published version: marked so on every page

	// The six calendar months of business justifications: raised on or after JustificationsFrom and on or
	// before the publication date.
	JustificationsFrom time.Time `json:"justifications_from"`
	// Changes delivered and moved after this date (the previous schedule's publication date) and on or
	// before the publication date.
	Since time.Time `json:"since"`
	// SinceSchedule: Since is the previous schedule's publication date (otherwise three months before
	// this one, as no earlier schedule was published).
	SinceSchedule bool `json:"since_schedule,omitempty"`

	Releases       []Release       `json:"releases"`
	Justifications []Justification `json:"justifications"`
	Delivered      []Change        `json:"delivered"`
	Moves          []Move          `json:"moves"`
	HowToRaise     []string        `json:"how_to_raise"` // paragraphs
	// Gaps are what the history cannot tell about the publication date, one sentence each; the tables
	// say NotRecorded where they would otherwise show a value.
	Gaps []string `json:"gaps,omitempty"`
}

// Release is a release in the coming period and the changes allocated to it.
type Release struct {
	Number     int       `json:"number"`
	Name       string    `json:"name"`
	TargetDate time.Time `json:"target_date"`
	Status     string    `json:"status"` // "Planned", "In progress"
	Changes    []Change  `json:"changes"`
}

// Label is how the release is written in tables, such as "R72".
func (r Release) Label() string { return fmt.Sprintf("R%d", r.Number) }

// Change is one request in a release.
type Change struct {
	Reference      string    `json:"reference"`
	Title          string    `json:"title"`
	FunctionalArea string    `json:"functional_area"`
	NSIG           string    `json:"nsig"`
	Organisation   string    `json:"organisation"`
	Region         string    `json:"region"`
	Status         string    `json:"status"`       // the request's status in words
	Release        string    `json:"release"`      // "R71" (for delivered changes)
	DeliveredOn    time.Time `json:"delivered_on"` // zero unless delivered
}

// Justification is a business justification raised in the six months before publication and what became
// of it.
type Justification struct {
	Reference    string    `json:"reference"`
	Title        string    `json:"title"`
	Organisation string    `json:"organisation"`
	Region       string    `json:"region"`
	RaisedOn     time.Time `json:"raised_on"`
	Outcome      string    `json:"outcome"`       // "Approved", "Deferred", "Not approved" or the current status in words
	DecisionDate time.Time `json:"decision_date"` // zero while undecided
	Rationale    string    `json:"rationale"`     // empty while undecided
}

// Move is a change moved from one release to another.
type Move struct {
	Reference string    `json:"reference"`
	Title     string    `json:"title"`
	From      string    `json:"from"` // "R72"
	To        string    `json:"to"`   // "R73"
	MovedOn   time.Time `json:"moved_on"`
	Reason    string    `json:"reason"`
}

// Items counts the rows of every table in the document.
func (d *Document) Items() int {
	n := len(d.Justifications) + len(d.Delivered) + len(d.Moves)
	for _, r := range d.Releases {
		n += len(r.Changes)
	}
	return n
}
