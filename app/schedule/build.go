package schedule

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/nhs-esr/portal/app/release"
	"github.com/nhs-esr/portal/app/request"
)

// Who publishes the schedule, and how its references are written.
const (
	Title         = "ESR Development Schedule"
	Author        = "NHS ESR Central Team"
	Subject       = "Changes allocated to ESR releases and business justifications raised, with their decisions"
	justifyMonths = 6
)

// HowToRaise is the schedule's closing section.
var HowToRaise = []string{
	"Any NHS organisation that uses ESR can ask for it to change. Check first whether a similar request has already been raised: " +
		"the ESR Enhancement & NSIG Governance Portal lists every accepted request, and your organisation can support an existing " +
		"request instead of raising a new one. Support from organisations in several regions helps a request's case.",
	"To raise an enhancement request, sign in to the portal and choose \"Raise a request\". Log the issue with the ESR Service Desk " +
		"first and give its SR number; describe the problem today, the change you need, who it affects and how urgent it is.",
	"The central team acknowledges every request within 5 working days and checks it against existing functionality, " +
		"known defects and national policy. If it is a genuine enhancement you decide whether to take it forward; you then agree " +
		"a requirement definition and a business justification with the development team, the change is assessed, and the " +
		"central team decides. You hear about every decision through your request in the portal.",
	"Your National Special Interest Group (NSIG) reviews and comments on requests in its functional area. Speak to your " +
		"region's NSIG member or deputy, or to your functional account manager, for help with a request.",
}

// Reference is the document reference of a quarter's schedule, such as "ESR-DS-2026-Q3".
func Reference(q Quarter) string { return "ESR-DS-" + q.String() }

// Options say which schedule to build.
type Options struct {
	Quarter         Quarter
	PublicationDate time.Time // a civil date
	Version         int       // 0 reads as 1
	ChangeNote      string
}

// JustificationsFrom is the first day of the six calendar months before a publication date: a justification
// raised on that day is in the schedule, one raised the day before is not. The 31st of a month counts back to
// the last day of a shorter month (31 August → 28 or 29 February).
func JustificationsFrom(publication time.Time) time.Time {
	y, m, d := publication.Date()
	first := time.Date(y, m-justifyMonths, 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	return time.Date(first.Year(), first.Month(), min(d, last), 0, 0, 0, 0, time.UTC)
}

// day is the civil date of t's wall clock.
func day(t time.Time) time.Time { return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC) }

// Build reads the schedule for a quarter, as at its publication date, from the current data. It only reads;
// run it in a REPEATABLE READ transaction (BuildSnapshot) for one consistent view.
func Build(ctx context.Context, db bun.IDB, o Options) (*Document, error) {
	pub := day(o.PublicationDate)
	doc := &Document{
		Title: Title, Reference: Reference(o.Quarter), Quarter: o.Quarter, QuarterLabel: o.Quarter.Label(),
		PublicationDate: pub, Version: max(o.Version, 1), ChangeNote: o.ChangeNote, Author: Author,
		JustificationsFrom: JustificationsFrom(pub), HowToRaise: HowToRaise,
	}
	since, err := previousPublication(ctx, db, o.Quarter, pub)
	if err != nil {
		return nil, err
	}
	doc.Since = since
	steps := []struct {
		what string
		fn   func(context.Context, bun.IDB, *Document) error
	}{
		{"releases", buildReleases},
		{"business justifications", buildJustifications},
		{"delivered changes", buildDelivered},
		{"moves between releases", buildMoves},
	}
	for _, s := range steps {
		if err := s.fn(ctx, db, doc); err != nil {
			return nil, fmt.Errorf("development schedule %s: %s: %w", o.Quarter, s.what, err)
		}
	}
	return doc, nil
}

// BuildSnapshot is Build in a read-only REPEATABLE READ transaction, so that every table of the schedule
// comes from the same moment.
func BuildSnapshot(ctx context.Context, db *bun.DB, o Options) (*Document, error) {
	var doc *Document
	err := db.RunInTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}, func(ctx context.Context, tx bun.Tx) error {
		var err error
		doc, err = Build(ctx, tx, o)
		return err
	})
	return doc, err
}

// previousPublication is the publication date of the latest schedule published for an earlier quarter
// before pub; without one, three months before pub.
func previousPublication(ctx context.Context, db bun.IDB, q Quarter, pub time.Time) (time.Time, error) {
	var prev []time.Time
	err := db.NewRaw(`SELECT max(publication_date) FROM schedule_publications WHERE quarter < ? AND publication_date < ? HAVING count(*) > 0`,
		q.String(), pub).Scan(ctx, &prev)
	if err != nil {
		return time.Time{}, fmt.Errorf("previous development schedule: %w", err)
	}
	if len(prev) > 0 && !prev[0].IsZero() {
		return day(prev[0]), nil
	}
	y, m, d := pub.Date()
	first := time.Date(y, m-3, 1, 0, 0, 0, 0, time.UTC)
	return time.Date(first.Year(), first.Month(), min(d, first.AddDate(0, 1, -1).Day()), 0, 0, 0, 0, time.UTC), nil
}

// london turns a timestamptz column into its Europe/London calendar date.
const londonDate = `(%s AT TIME ZONE 'Europe/London')::date`

func onDate(column string) string { return fmt.Sprintf(londonDate, column) }

// changeColumns are what a change row reads of a request, its form and its raising organisation.
const changeColumns = `r.reference, r.title, r.status, coalesce(e.functional_area, '') AS functional_area,
	coalesce(n.name, '') AS nsig, o.name AS organisation, rg.name AS region`

const changeJoins = `JOIN requests AS r ON r.id = a.request_id
	LEFT JOIN enhancement_requests AS e ON e.request_id = r.id
	LEFT JOIN nsigs AS n ON n.id = r.nsig_id
	JOIN organisations AS o ON o.id = r.organisation_id
	JOIN regions AS rg ON rg.id = o.region_id`

type changeRow struct {
	ReleaseID      int64          `bun:"release_id"`
	Reference      string         `bun:"reference"`
	Title          string         `bun:"title"`
	Status         request.Status `bun:"status"`
	FunctionalArea string         `bun:"functional_area"`
	NSIG           string         `bun:"nsig"`
	Organisation   string         `bun:"organisation"`
	Region         string         `bun:"region"`
	ReleaseNumber  int            `bun:"release_number"`
	DeliveredOn    time.Time      `bun:"delivered_on"`
}

func (c changeRow) change() Change {
	ch := Change{Reference: c.Reference, Title: c.Title, FunctionalArea: c.FunctionalArea, NSIG: c.NSIG,
		Organisation: c.Organisation, Region: c.Region, Status: c.Status.Label(), DeliveredOn: day(c.DeliveredOn)}
	if c.ReleaseNumber > 0 {
		ch.Release = fmt.Sprintf("R%d", c.ReleaseNumber)
	}
	if c.DeliveredOn.IsZero() {
		ch.DeliveredOn = time.Time{}
	}
	return ch
}

// buildReleases lists the releases not yet live on the publication date, soonest first, with their changes.
func buildReleases(ctx context.Context, db bun.IDB, doc *Document) error {
	var rels []struct {
		ID         int64          `bun:"id"`
		Number     int            `bun:"number"`
		Name       string         `bun:"name"`
		TargetDate time.Time      `bun:"target_date"`
		Status     release.Status `bun:"status"`
	}
	err := db.NewRaw(`SELECT id, number, name, target_date, status FROM releases AS rl
		WHERE rl.released_at IS NULL OR `+onDate("rl.released_at")+` > ?
		ORDER BY target_date, number`, doc.PublicationDate).Scan(ctx, &rels)
	if err != nil {
		return err
	}
	if len(rels) == 0 {
		return nil
	}
	ids := make([]int64, len(rels))
	for i, r := range rels {
		ids[i] = r.ID
	}
	var rows []changeRow
	err = db.NewRaw(`SELECT a.release_id, `+changeColumns+` FROM allocations AS a `+changeJoins+`
		WHERE a.release_id = ANY(?) ORDER BY a.release_id, r.reference`, pgdialect.Array(ids)).Scan(ctx, &rows)
	if err != nil {
		return err
	}
	byRelease := map[int64][]Change{}
	for _, c := range rows {
		byRelease[c.ReleaseID] = append(byRelease[c.ReleaseID], c.change())
	}
	for _, r := range rels {
		doc.Releases = append(doc.Releases, Release{Number: r.Number, Name: r.Name, TargetDate: day(r.TargetDate),
			Status: r.Status.Info().Label, Changes: byRelease[r.ID]})
	}
	return nil
}

// decisionLabels are the words for the central team's decisions.
var decisionLabels = map[string]string{"approved": "Approved", "deferred": "Deferred", "not_approved": "Not approved"}

// buildJustifications lists the business justifications first submitted in the six months up to and
// including the publication date, with the latest decision made by then, or the request's current status.
func buildJustifications(ctx context.Context, db bun.IDB, doc *Document) error {
	var rows []struct {
		Reference    string         `bun:"reference"`
		Title        string         `bun:"title"`
		Organisation string         `bun:"organisation"`
		Region       string         `bun:"region"`
		Status       request.Status `bun:"status"`
		RaisedOn     time.Time      `bun:"raised_on"`
		Outcome      sql.NullString `bun:"outcome"`
		DecidedOn    time.Time      `bun:"decided_on"`
		Rationale    string         `bun:"rationale"`
		ReviewOn     time.Time      `bun:"review_on"`
	}
	raised := onDate("coalesce(bj.first_submitted_at, bj.submitted_at)")
	err := db.NewRaw(`SELECT r.reference, r.title, o.name AS organisation, rg.name AS region, r.status, `+raised+` AS raised_on,
			d.outcome, `+onDate("d.decided_at")+` AS decided_on, coalesce(d.rationale, '') AS rationale, d.review_on
		FROM business_justifications AS bj
		JOIN requests AS r ON r.id = bj.request_id
		JOIN organisations AS o ON o.id = r.organisation_id
		JOIN regions AS rg ON rg.id = o.region_id
		LEFT JOIN LATERAL (
			SELECT outcome, decided_at, rationale, review_on FROM request_decisions AS d
			WHERE d.request_id = r.id AND `+onDate("d.decided_at")+` <= ?
			ORDER BY d.decided_at DESC, d.id DESC LIMIT 1
		) AS d ON true
		WHERE coalesce(bj.first_submitted_at, bj.submitted_at) IS NOT NULL
			AND `+raised+` BETWEEN ? AND ?
		ORDER BY raised_on, r.reference`, doc.PublicationDate, doc.JustificationsFrom, doc.PublicationDate).Scan(ctx, &rows)
	if err != nil {
		return err
	}
	for _, j := range rows {
		out := Justification{Reference: j.Reference, Title: j.Title, Organisation: j.Organisation, Region: j.Region,
			RaisedOn: day(j.RaisedOn), Outcome: j.Status.Label()}
		if j.Outcome.Valid {
			out.Outcome = decisionLabels[j.Outcome.String]
			if !j.ReviewOn.IsZero() {
				out.Outcome += ", to be reviewed on " + j.ReviewOn.Format("2 January 2006")
			}
			out.DecisionDate, out.Rationale = day(j.DecidedOn), j.Rationale
		} else if !j.Status.Closed() {
			out.Outcome = "Not yet decided (" + j.Status.Label() + ")"
		}
		doc.Justifications = append(doc.Justifications, out)
	}
	return nil
}

// buildDelivered lists the changes in releases that went live after the previous schedule and on or
// before the publication date.
func buildDelivered(ctx context.Context, db bun.IDB, doc *Document) error {
	var rows []changeRow
	delivered := onDate("rl.released_at")
	err := db.NewRaw(`SELECT a.release_id, `+changeColumns+`, rl.number AS release_number, `+delivered+` AS delivered_on
		FROM allocations AS a `+changeJoins+`
		JOIN releases AS rl ON rl.id = a.release_id
		WHERE r.status = ? AND rl.released_at IS NOT NULL AND `+delivered+` > ? AND `+delivered+` <= ?
		ORDER BY delivered_on, rl.number, r.reference`,
		request.StatusDelivered, doc.Since, doc.PublicationDate).Scan(ctx, &rows)
	if err != nil {
		return err
	}
	for _, c := range rows {
		doc.Delivered = append(doc.Delivered, c.change())
	}
	return nil
}

// buildMoves lists the moves between releases after the previous schedule and on or before the
// publication date, oldest first.
func buildMoves(ctx context.Context, db bun.IDB, doc *Document) error {
	var rows []struct {
		Reference string    `bun:"reference"`
		Title     string    `bun:"title"`
		From      int       `bun:"from_number"`
		To        int       `bun:"to_number"`
		MovedOn   time.Time `bun:"moved_on"`
		Reason    string    `bun:"reason"`
	}
	moved := onDate("m.moved_at")
	err := db.NewRaw(`SELECT r.reference, r.title, f.number AS from_number, t.number AS to_number, `+moved+` AS moved_on, m.reason
		FROM allocation_moves AS m
		JOIN requests AS r ON r.id = m.request_id
		JOIN releases AS f ON f.id = m.from_release_id
		JOIN releases AS t ON t.id = m.to_release_id
		WHERE `+moved+` > ? AND `+moved+` <= ?
		ORDER BY m.moved_at, m.id`, doc.Since, doc.PublicationDate).Scan(ctx, &rows)
	if err != nil {
		return err
	}
	for _, m := range rows {
		doc.Moves = append(doc.Moves, Move{Reference: m.Reference, Title: m.Title, From: fmt.Sprintf("R%d", m.From),
			To: fmt.Sprintf("R%d", m.To), MovedOn: day(m.MovedOn), Reason: m.Reason})
	}
	return nil
}
