package schedule

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
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
	since, found, err := previousPublication(ctx, db, o.Quarter, pub)
	if err != nil {
		return nil, err
	}
	doc.Since, doc.SinceSchedule = since, found
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
// before pub, and true; without one, three months before pub, and false.
func previousPublication(ctx context.Context, db bun.IDB, q Quarter, pub time.Time) (time.Time, bool, error) {
	var prev []time.Time
	err := db.NewRaw(`SELECT max(publication_date) FROM schedule_publications WHERE quarter < ? AND publication_date < ? HAVING count(*) > 0`,
		q.String(), pub).Scan(ctx, &prev)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("previous development schedule: %w", err)
	}
	if len(prev) > 0 && !prev[0].IsZero() {
		return day(prev[0]), true, nil
	}
	y, m, d := pub.Date()
	first := time.Date(y, m-3, 1, 0, 0, 0, 0, time.UTC)
	return time.Date(first.Year(), first.Month(), min(d, first.AddDate(0, 1, -1).Day()), 0, 0, 0, 0, time.UTC), false, nil
}

// london is the calendar a schedule's dates are read in.
var london = func() *time.Location {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		panic("schedule: load Europe/London: " + err.Error())
	}
	return loc
}()

// EndOfDay is the instant a civil date ends in London: a schedule dated d says what was true at that
// instant, so an event belongs to it when it happened before EndOfDay(d).
func EndOfDay(d time.Time) time.Time {
	return time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, london)
}

// NotRecorded is what a schedule says where the history cannot tell what was true on its date.
const NotRecorded = "Not recorded"

// londonDate turns a timestamptz column into its Europe/London calendar date.
const londonDate = `(%s AT TIME ZONE 'Europe/London')::date`

func onDate(column string) string { return fmt.Sprintf(londonDate, column) }

// statusThen is a request's status at an instant (the second argument): the last status its timeline
// recorded before it. NULL when the timeline recorded none by then.
const statusThen = `(SELECT e.to_status FROM request_events AS e WHERE e.request_id = r.id AND e.to_status <> ''
	AND e.occurred_at < ?0 ORDER BY e.occurred_at DESC, e.id DESC LIMIT 1)`

// releaseThen is the history row of release rl at the instant ?0.
const releaseThen = `LEFT JOIN LATERAL (SELECT h.number, h.name, h.target_date, h.status FROM release_history AS h
	WHERE h.release_id = %[1]s.id AND h.valid_from < ?0 ORDER BY h.valid_from DESC, h.id DESC LIMIT 1) AS %[2]s ON true`

// changeColumns are what a change row reads of a request, its form and its raising organisation: the
// request's names as they are (a request is known by them), its status as it was at ?0.
const changeColumns = `r.reference, r.title, ` + statusThen + ` AS status, coalesce(e.functional_area, '') AS functional_area,
	coalesce(n.name, '') AS nsig, o.name AS organisation, rg.name AS region`

const changeJoins = `JOIN requests AS r ON r.id = a.request_id
	LEFT JOIN enhancement_requests AS e ON e.request_id = r.id
	LEFT JOIN nsigs AS n ON n.id = r.nsig_id
	JOIN organisations AS o ON o.id = r.organisation_id
	JOIN regions AS rg ON rg.id = o.region_id`

type changeRow struct {
	ReleaseID      int64          `bun:"release_id"`
	Unknown        bool           `bun:"unknown"`
	Reference      string         `bun:"reference"`
	Title          string         `bun:"title"`
	Status         sql.NullString `bun:"status"`
	FunctionalArea string         `bun:"functional_area"`
	NSIG           string         `bun:"nsig"`
	Organisation   string         `bun:"organisation"`
	Region         string         `bun:"region"`
	ReleaseNumber  int            `bun:"release_number"`
	DeliveredOn    time.Time      `bun:"delivered_on"`
}

func (c changeRow) change(doc *Document) Change {
	ch := Change{Reference: c.Reference, Title: c.Title, FunctionalArea: c.FunctionalArea, NSIG: c.NSIG,
		Organisation: c.Organisation, Region: c.Region, Status: doc.statusLabel(c.Reference, c.Status)}
	if c.ReleaseNumber > 0 {
		ch.Release = fmt.Sprintf("R%d", c.ReleaseNumber)
	}
	if !c.DeliveredOn.IsZero() {
		ch.DeliveredOn = day(c.DeliveredOn)
	}
	return ch
}

// statusLabel is a request's status then in words, or NotRecorded with a gap saying so.
func (d *Document) statusLabel(reference string, s sql.NullString) string {
	if !s.Valid {
		d.gap(fmt.Sprintf("The status of %s on %s is not recorded.", reference, d.PublicationDate.Format("2 January 2006")))
		return NotRecorded
	}
	return request.Status(s.String).Label()
}

// gap adds a sentence to what the schedule cannot say, once.
func (d *Document) gap(s string) {
	if !slices.Contains(d.Gaps, s) {
		d.Gaps = append(d.Gaps, s)
	}
}

// allocationThen is, for every request allocated to a release now, the release it was in at ?0: the
// release the last move before then took it to, or else the release it was first allocated to if that
// was before then. The first allocation's time is its "allocate" timeline event, or the allocation's own
// time when it never moved; a request allocated without the event and moved later has no known first
// allocation time, and is "unknown" before its first move.
const allocationThen = `WITH first AS (
		SELECT a.request_id, coalesce(fm.from_release_id, a.release_id) AS release_id, fm.moved_at AS first_move_at,
			coalesce(ev.at, CASE WHEN fm.from_release_id IS NULL THEN a.allocated_at END) AS allocated_at
		FROM allocations AS a
		LEFT JOIN LATERAL (SELECT m.from_release_id, m.moved_at FROM allocation_moves AS m WHERE m.request_id = a.request_id
			ORDER BY m.moved_at, m.id LIMIT 1) AS fm ON true
		LEFT JOIN LATERAL (SELECT min(e.occurred_at) AS at FROM request_events AS e WHERE e.request_id = a.request_id
			AND e.kind = 'allocate') AS ev ON true
	), a AS (
		SELECT f.request_id,
			CASE WHEN lm.to_release_id IS NOT NULL THEN lm.to_release_id WHEN f.allocated_at < ?0 THEN f.release_id END AS release_id,
			coalesce(lm.to_release_id IS NULL AND f.allocated_at IS NULL AND f.first_move_at >= ?0, false) AS unknown
		FROM first AS f
		LEFT JOIN LATERAL (SELECT m.to_release_id FROM allocation_moves AS m WHERE m.request_id = f.request_id AND m.moved_at < ?0
			ORDER BY m.moved_at DESC, m.id DESC LIMIT 1) AS lm ON true
	)`

// buildReleases lists the releases not yet live at the end of the publication date, soonest first, as
// they stood then, with the changes allocated to each then.
func buildReleases(ctx context.Context, db bun.IDB, doc *Document) error {
	cutoff := EndOfDay(doc.PublicationDate)
	var rels []struct {
		ID         int64          `bun:"id"`
		Number     int            `bun:"number"`
		Name       sql.NullString `bun:"name"`
		TargetDate time.Time      `bun:"target_date"`
		Status     sql.NullString `bun:"status"`
	}
	err := db.NewRaw(`SELECT rl.id, coalesce(h.number, rl.number) AS number, h.name, h.target_date, h.status
		FROM releases AS rl `+fmt.Sprintf(releaseThen, "rl", "h")+`
		WHERE (rl.created_at < ?0 OR h.status IS NOT NULL) AND (rl.released_at IS NULL OR rl.released_at >= ?0)
			AND h.status IS DISTINCT FROM 'released'
		ORDER BY h.target_date NULLS LAST, 2`, cutoff).Scan(ctx, &rels)
	if err != nil {
		return err
	}
	ids := make([]int64, len(rels))
	for i, r := range rels {
		ids[i] = r.ID
	}
	var rows []changeRow
	err = db.NewRaw(allocationThen+` SELECT a.release_id, a.unknown, `+changeColumns+` FROM a `+changeJoins+`
		WHERE a.release_id = ANY(?1) OR a.unknown ORDER BY a.release_id, r.reference`, cutoff, pgdialect.Array(ids)).Scan(ctx, &rows)
	if err != nil {
		return err
	}
	byRelease := map[int64][]Change{}
	when := doc.PublicationDate.Format("2 January 2006")
	for _, c := range rows {
		if c.Unknown {
			// Not allocated then if its status then says so; otherwise nobody can tell.
			if c.Status.Valid && c.Status.String != string(request.StatusAllocated) && c.Status.String != string(request.StatusDelivered) {
				continue
			}
			doc.gap(fmt.Sprintf("Whether %s was allocated to a release on %s, and to which, is not recorded.", c.Reference, when))
			continue
		}
		byRelease[c.ReleaseID] = append(byRelease[c.ReleaseID], c.change(doc))
	}
	for _, r := range rels {
		rel := Release{Number: r.Number, Name: r.Name.String, TargetDate: day(r.TargetDate), Changes: byRelease[r.ID]}
		if r.Status.Valid {
			rel.Status = release.Status(r.Status.String).Info().Label
		} else {
			rel.Status, rel.TargetDate = NotRecorded, time.Time{}
			doc.gap(fmt.Sprintf("Release %d existed on %s, but its name, target date and status then are not recorded.", r.Number, when))
		}
		doc.Releases = append(doc.Releases, rel)
	}
	return nil
}

// decisionLabels are the words for the central team's decisions.
var decisionLabels = map[string]string{"approved": "Approved", "deferred": "Deferred", "not_approved": "Not approved"}

// buildJustifications lists the business justifications first submitted in the six months up to and
// including the publication date, with the latest decision made by then, or the request's status then.
func buildJustifications(ctx context.Context, db bun.IDB, doc *Document) error {
	var rows []struct {
		Reference    string         `bun:"reference"`
		Title        string         `bun:"title"`
		Organisation string         `bun:"organisation"`
		Region       string         `bun:"region"`
		Status       sql.NullString `bun:"status"`
		RaisedOn     time.Time      `bun:"raised_on"`
		Outcome      sql.NullString `bun:"outcome"`
		DecidedOn    time.Time      `bun:"decided_on"`
		Rationale    string         `bun:"rationale"`
		ReviewOn     time.Time      `bun:"review_on"`
	}
	raised := onDate("coalesce(bj.first_submitted_at, bj.submitted_at)")
	err := db.NewRaw(`SELECT r.reference, r.title, o.name AS organisation, rg.name AS region, `+statusThen+` AS status, `+raised+` AS raised_on,
			d.outcome, `+onDate("d.decided_at")+` AS decided_on, coalesce(d.rationale, '') AS rationale, d.review_on
		FROM business_justifications AS bj
		JOIN requests AS r ON r.id = bj.request_id
		JOIN organisations AS o ON o.id = r.organisation_id
		JOIN regions AS rg ON rg.id = o.region_id
		LEFT JOIN LATERAL (
			SELECT outcome, decided_at, rationale, review_on FROM request_decisions AS d
			WHERE d.request_id = r.id AND d.decided_at < ?0
			ORDER BY d.decided_at DESC, d.id DESC LIMIT 1
		) AS d ON true
		WHERE coalesce(bj.first_submitted_at, bj.submitted_at) IS NOT NULL
			AND `+raised+` BETWEEN ?1 AND ?2
		ORDER BY raised_on, r.reference`, EndOfDay(doc.PublicationDate), doc.JustificationsFrom, doc.PublicationDate).Scan(ctx, &rows)
	if err != nil {
		return err
	}
	for _, j := range rows {
		out := Justification{Reference: j.Reference, Title: j.Title, Organisation: j.Organisation, Region: j.Region,
			RaisedOn: day(j.RaisedOn)}
		status := request.Status(j.Status.String)
		switch {
		case j.Outcome.Valid:
			out.Outcome = decisionLabels[j.Outcome.String]
			if !j.ReviewOn.IsZero() {
				out.Outcome += ", to be reviewed on " + j.ReviewOn.Format("2 January 2006")
			}
			out.DecisionDate, out.Rationale = day(j.DecidedOn), j.Rationale
		case !j.Status.Valid:
			out.Outcome = doc.statusLabel(j.Reference, j.Status)
		case status.Closed():
			out.Outcome = status.Label()
		default:
			out.Outcome = "Not yet decided (" + status.Label() + ")"
		}
		doc.Justifications = append(doc.Justifications, out)
	}
	return nil
}

// buildDelivered lists the changes delivered after the previous schedule's date and on or before the
// publication date, in the release each was in when it was delivered (a delivered change moves no more).
func buildDelivered(ctx context.Context, db bun.IDB, doc *Document) error {
	var rows []changeRow
	err := db.NewRaw(`SELECT a.release_id, `+changeColumns+`, coalesce(h.number, rl.number) AS release_number,
			`+onDate("d.occurred_at")+` AS delivered_on
		FROM request_events AS d
		JOIN allocations AS a ON a.request_id = d.request_id `+changeJoins+`
		JOIN releases AS rl ON rl.id = a.release_id `+fmt.Sprintf(releaseThen, "rl", "h")+`
		WHERE d.to_status = ?1 AND d.occurred_at >= ?2 AND d.occurred_at < ?0
		ORDER BY d.occurred_at, release_number, r.reference`,
		EndOfDay(doc.PublicationDate), request.StatusDelivered, EndOfDay(doc.Since)).Scan(ctx, &rows)
	if err != nil {
		return err
	}
	for _, c := range rows {
		doc.Delivered = append(doc.Delivered, c.change(doc))
	}
	return nil
}

// buildMoves lists the moves between releases after the previous schedule's date and on or before the
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
	err := db.NewRaw(`SELECT r.reference, r.title, coalesce(fh.number, f.number) AS from_number, coalesce(th.number, t.number) AS to_number,
			`+onDate("m.moved_at")+` AS moved_on, m.reason
		FROM allocation_moves AS m
		JOIN requests AS r ON r.id = m.request_id
		JOIN releases AS f ON f.id = m.from_release_id `+fmt.Sprintf(releaseThen, "f", "fh")+`
		JOIN releases AS t ON t.id = m.to_release_id `+fmt.Sprintf(releaseThen, "t", "th")+`
		WHERE m.moved_at >= ?1 AND m.moved_at < ?0
		ORDER BY m.moved_at, m.id`, EndOfDay(doc.PublicationDate), EndOfDay(doc.Since)).Scan(ctx, &rows)
	if err != nil {
		return err
	}
	for _, m := range rows {
		doc.Moves = append(doc.Moves, Move{Reference: m.Reference, Title: m.Title, From: fmt.Sprintf("R%d", m.From),
			To: fmt.Sprintf("R%d", m.To), MovedOn: day(m.MovedOn), Reason: m.Reason})
	}
	return nil
}
