package schedule

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/database"
	"github.com/nhs-esr/portal/app/notify"
	"github.com/nhs-esr/portal/app/problem"
)

// Renderer writes a schedule as a PDF (schedule/pdf.Render).
type Renderer func(w io.Writer, doc *Document) error

// Publication is one published version of a quarter's schedule.
type Publication struct {
	bun.BaseModel `bun:"table:schedule_publications,alias:sp"`

	ID              int64           `bun:"id,pk,autoincrement"`
	Quarter         string          `bun:"quarter"`
	Version         int             `bun:"version"`
	Reference       string          `bun:"reference"`
	PublicationDate time.Time       `bun:"publication_date,type:date"`
	ChangeNote      string          `bun:"change_note"`
	Snapshot        json.RawMessage `bun:"snapshot,type:jsonb"`
	Items           int             `bun:"items"`
	PDF             []byte          `bun:"pdf"`
	SHA256          []byte          `bun:"sha256"`
	PublishedBy     int64           `bun:"published_by"`
	PublishedAt     time.Time       `bun:"published_at"`
	PublicSince     time.Time       `bun:"public_since,nullzero"`

	// Told is how many people publishing told, set by Publish.
	Told int `bun:"-"`

	PublishedByName string `bun:"published_by_name,scanonly"`
	Size            int    `bun:"size,scanonly"`
	Latest          int    `bun:"latest,scanonly"` // the quarter's latest version
}

// Superseded reports whether a later version of the same quarter has been published.
func (p *Publication) Superseded() bool { return p.Latest > p.Version }

// Public reports whether the publication is shown to people who are not signed in.
func (p *Publication) Public() bool { return !p.PublicSince.IsZero() }

// Checksum is the PDF's SHA-256 in hex.
func (p *Publication) Checksum() string { return hex.EncodeToString(p.SHA256) }

// QuarterValue is the publication's quarter.
func (p *Publication) QuarterValue() Quarter {
	q, _ := ParseQuarter(p.Quarter)
	return q
}

// Document is the data the publication was built from.
func (p *Publication) Document() (*Document, error) {
	var d Document
	if err := json.Unmarshal(p.Snapshot, &d); err != nil {
		return nil, fmt.Errorf("development schedule %s version %d: read snapshot: %w", p.Quarter, p.Version, err)
	}
	return &d, nil
}

// FileName is the PDF's download name, such as "ESR-DS-2026-Q3-v2.pdf".
func (p *Publication) FileName(ext string) string {
	return fmt.Sprintf("%s-v%d.%s", p.Reference, p.Version, ext)
}

// metaColumns are a publication's columns without its PDF and snapshot, for lists.
const metaColumns = `sp.id, sp.quarter, sp.version, sp.reference, sp.publication_date, sp.change_note, sp.items, sp.sha256,
	sp.published_by, sp.published_at, sp.public_since, u.name AS published_by_name, length(sp.pdf) AS size,
	max(sp.version) OVER (PARTITION BY sp.quarter) AS latest`

func selectPublications(db bun.IDB, columns string) *bun.SelectQuery {
	return db.NewSelect().TableExpr("schedule_publications AS sp").ColumnExpr(columns).
		Join("JOIN users AS u ON u.id = sp.published_by")
}

// List returns every published version, newest quarter first, latest version first.
func List(ctx context.Context, db bun.IDB) ([]Publication, error) {
	var ps []Publication
	if err := selectPublications(db, metaColumns).OrderExpr("sp.quarter DESC, sp.version DESC").Scan(ctx, &ps); err != nil {
		return nil, fmt.Errorf("list development schedules: %w", err)
	}
	return ps, nil
}

// Get returns one published version with its PDF and snapshot.
func Get(ctx context.Context, db bun.IDB, id int64) (*Publication, error) {
	return getWhere(ctx, db, fmt.Sprintf("development schedule %d", id), "sp.id = ?", id)
}

// GetVersion returns a quarter's published version with its PDF and snapshot.
func GetVersion(ctx context.Context, db bun.IDB, q Quarter, version int) (*Publication, error) {
	return getWhere(ctx, db, fmt.Sprintf("development schedule %s version %d", q, version), "sp.quarter = ? AND sp.version = ?", q.String(), version)
}

// LatestPublic returns the version the central team made public most recently, or problem.ErrNotFound.
func LatestPublic(ctx context.Context, db bun.IDB) (*Publication, error) {
	return getWhere(ctx, db, "public development schedule", `sp.id = (SELECT id FROM schedule_publications WHERE public_since IS NOT NULL
		ORDER BY public_since DESC, id DESC LIMIT 1)`)
}

// getWhere returns the one publication the condition picks, or problem.ErrNotFound.
func getWhere(ctx context.Context, db bun.IDB, what, where string, args ...any) (*Publication, error) {
	p := new(Publication)
	err := db.NewSelect().TableExpr("(SELECT sp.*, max(sp.version) OVER (PARTITION BY sp.quarter) AS latest FROM schedule_publications AS sp) AS sp").
		ColumnExpr("sp.*, u.name AS published_by_name, length(sp.pdf) AS size").
		Join("JOIN users AS u ON u.id = sp.published_by").
		Where(where, args...).Scan(ctx, p)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%s: %w", what, problem.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return p, nil
}

// LatestVersion is the latest version published for a quarter; 0 when none.
func LatestVersion(ctx context.Context, db bun.IDB, q Quarter) (int, error) {
	var v int
	if err := db.NewRaw(`SELECT coalesce(max(version), 0) FROM schedule_publications WHERE quarter = ?`, q.String()).Scan(ctx, &v); err != nil {
		return 0, fmt.Errorf("latest version of development schedule %s: %w", q, err)
	}
	return v, nil
}

// RuleError is a reason the schedule cannot be published as asked, for the field it is about.
type RuleError struct {
	Field   string
	Message string
}

func (e *RuleError) Error() string { return e.Message }

// Conflict is returned when another version of the quarter was published after the person publishing
// looked at the preview.
type Conflict struct {
	Latest *Publication
	Based  int
}

func (e *Conflict) Error() string {
	return fmt.Sprintf("development schedule %s: version %d was published since version %d", e.Latest.Quarter, e.Latest.Version, e.Based)
}

// PublishInput is what the central team chooses.
type PublishInput struct {
	Quarter         Quarter
	PublicationDate time.Time
	ChangeNote      string
	Based           int  // the quarter's latest version when the preview was shown: 0 for none
	Public          bool // the new version becomes the one shown to people who are not signed in
}

// CheckDate refuses a publication date outside the quarter and the quarter before it: a schedule is
// published shortly before or during the quarter it is for.
func CheckDate(q Quarter, d time.Time) error {
	d = day(d) // the calendar date, whatever the time zone it was read in
	from, to := q.Previous().Start(), q.End()
	if d.Before(from) || d.After(to) {
		return &RuleError{Field: "date-day", Message: fmt.Sprintf("The publication date must be between %s and %s, the quarter before %s and %s itself",
			from.Format("2 January 2006"), to.Format("2 January 2006"), q.Label(), q.Label())}
	}
	return nil
}

// Publisher is who publishes.
type Publisher struct {
	UserID int64
	Name   string
}

// Publish builds the quarter's schedule as at its publication date, renders it and stores the next version
// with its PDF, snapshot and checksum; makes it the public version when asked; circulates it to its
// Audience; and audits it — all in one transaction. A correction (version 2 onwards) needs a note of what
// changed.
func Publish(ctx context.Context, db *bun.DB, render Renderer, by Publisher, actor audit.Actor, now time.Time, in PublishInput) (*Publication, error) {
	if err := CheckDate(in.Quarter, in.PublicationDate); err != nil {
		return nil, err
	}
	note := strings.TrimSpace(in.ChangeNote)
	if in.Based > 0 && note == "" {
		return nil, &RuleError{Field: "change_note", Message: "Say what has changed since version " + fmt.Sprint(in.Based)}
	}
	if len(note) > 2000 {
		return nil, &RuleError{Field: "change_note", Message: "What changed must be 2000 characters or fewer"}
	}
	if in.Based == 0 {
		note = ""
	}
	doc, err := BuildSnapshot(ctx, db, Options{Quarter: in.Quarter, PublicationDate: in.PublicationDate, Version: in.Based + 1, ChangeNote: note})
	if err != nil {
		return nil, err
	}
	var pdf bytes.Buffer
	if err := render(&pdf, doc); err != nil {
		return nil, fmt.Errorf("render development schedule %s: %w", in.Quarter, err)
	}
	snapshot, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(pdf.Bytes())
	p := &Publication{Quarter: in.Quarter.String(), Version: doc.Version, Reference: doc.Reference, PublicationDate: doc.PublicationDate,
		ChangeNote: note, Snapshot: snapshot, Items: doc.Items(), PDF: pdf.Bytes(), SHA256: sum[:], PublishedBy: by.UserID,
		PublishedAt: now.UTC().Truncate(time.Microsecond)}
	err = database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewRaw("SELECT pg_advisory_xact_lock(hashtext('schedule_publications'), hashtext(?))", p.Quarter).Exec(ctx); err != nil {
			return fmt.Errorf("lock quarter: %w", err)
		}
		latest, err := LatestVersion(ctx, tx, in.Quarter)
		if err != nil {
			return err
		}
		if latest != in.Based {
			current, err := GetVersion(ctx, tx, in.Quarter, latest)
			if err != nil {
				return err
			}
			return &Conflict{Latest: current, Based: in.Based}
		}
		if _, err := tx.NewInsert().Model(p).ExcludeColumn("public_since").Returning("id").Exec(ctx); err != nil {
			var pgErr *pgconn.PgError
			if errors.As(err, &pgErr) && pgErr.Code == "23505" {
				return &RuleError{Field: "quarter", Message: "Another version of this schedule was published at the same moment: look at the list of schedules and try again"}
			}
			return fmt.Errorf("store development schedule: %w", err)
		}
		if err := audit.Record(ctx, tx, now, audit.Event{
			Actor: actor, Action: "schedule.published", EntityType: "development_schedule", EntityID: fmt.Sprintf("%s v%d", p.Quarter, p.Version),
			After: map[string]any{"quarter": p.Quarter, "version": p.Version, "publication_date": p.PublicationDate.Format(time.DateOnly),
				"items": p.Items, "sha256": p.Checksum(), "change_note": note},
		}); err != nil {
			return err
		}
		if in.Public {
			if err := setPublic(ctx, tx, actor, now, p, true); err != nil {
				return err
			}
			p.PublicSince = now.UTC()
		}
		told, err := Audience(ctx, tx, doc)
		if err != nil {
			return err
		}
		p.Told = len(told)
		return circulate(ctx, tx, now, p, in.Quarter, told)
	})
	if err != nil {
		return nil, err
	}
	p.PublishedByName, p.Size, p.Latest = by.Name, len(p.PDF), p.Version
	return p, nil
}

// References are the requests the schedule names, each once, in the order it names them first.
func (d *Document) References() []string {
	var out []string
	seen := map[string]bool{}
	add := func(ref string) {
		if ref != "" && !seen[ref] {
			seen[ref] = true
			out = append(out, ref)
		}
	}
	for _, r := range d.Releases {
		for _, c := range r.Changes {
			add(c.Reference)
		}
	}
	for _, j := range d.Justifications {
		add(j.Reference)
	}
	for _, c := range d.Delivered {
		add(c.Reference)
	}
	for _, m := range d.Moves {
		add(m.Reference)
	}
	return out
}

// audienceSQL is who a schedule is circulated to: every current NSIG seat holder (member or deputy); the
// requester, the supporters and the followers of every request the schedule names; and anyone who asked
// to hear about every schedule — each person once, active users only, less those who have turned the
// news of schedules off in their settings.
const audienceSQL = `WITH named AS (
		SELECT r.id, r.raised_by_id FROM requests AS r WHERE r.reference = ANY(?0::text[])
	), people AS (
		SELECT a.user_id FROM nsig_appointments AS a WHERE a.ended_at IS NULL
		UNION SELECT n.raised_by_id FROM named AS n
		UNION SELECT s.user_id FROM request_supports AS s JOIN named AS n ON n.id = s.request_id
		UNION SELECT f.user_id FROM request_followers AS f JOIN named AS n ON n.id = f.request_id
		UNION SELECT p.user_id FROM notification_preferences AS p WHERE p.event = ?1 AND (p.in_app OR p.email)
	)
	SELECT pp.user_id FROM people AS pp
	JOIN users AS u ON u.id = pp.user_id AND u.status = 'active'
	LEFT JOIN notification_preferences AS np ON np.user_id = pp.user_id AND np.event = ?1
	WHERE coalesce(np.in_app OR np.email, true)
	ORDER BY pp.user_id`

// Audience lists the people publishing doc tells, by user id: the preview counts them, Publish tells them.
func Audience(ctx context.Context, db bun.IDB, doc *Document) ([]int64, error) {
	var ids []int64
	if err := db.NewRaw(audienceSQL, pgdialect.Array(doc.References()), notify.EventSchedulePublished).Scan(ctx, &ids); err != nil {
		return nil, fmt.Errorf("who is told of development schedule %s: %w", doc.Quarter, err)
	}
	return ids, nil
}

// circulate tells the schedule's audience that it is published, with its link and, for a correction,
// what changed. The message names no request: everyone signed in may read the schedule itself.
func circulate(ctx context.Context, tx bun.Tx, now time.Time, p *Publication, q Quarter, users []int64) error {
	title := fmt.Sprintf("The Development Schedule for %s is published", q.Label())
	body := fmt.Sprintf("The national ESR central team has published the Development Schedule for %s (%s, dated %s).",
		q.Label(), p.Reference, p.PublicationDate.Format("2 January 2006"))
	if p.Version > 1 {
		title = fmt.Sprintf("The Development Schedule for %s is corrected (version %d)", q.Label(), p.Version)
		body = fmt.Sprintf("The national ESR central team has published version %d of the Development Schedule for %s (%s, dated %s), "+
			"which replaces version %d.\n\nWhat changed: %s", p.Version, q.Label(), p.Reference, p.PublicationDate.Format("2 January 2006"),
			p.Version-1, p.ChangeNote)
	}
	body += "\n\nIt lists the changes allocated to ESR releases and the business justifications raised in the last six months, with their decisions. " +
		"You are told because you hold an NSIG seat, or raised, support or follow a request it names. You can stop these messages in your notification settings."
	msgs := make([]notify.Message, 0, len(users))
	for _, u := range users {
		msgs = append(msgs, notify.Message{UserID: u, Event: notify.EventSchedulePublished, Title: title, Body: body,
			Link: fmt.Sprintf("/schedules/%d", p.ID)})
	}
	return notify.Queue(ctx, tx, now, msgs...)
}

// SetPublic shows a published version to people who are not signed in, or stops showing it, and audits it.
func SetPublic(ctx context.Context, db *bun.DB, actor audit.Actor, now time.Time, id int64, public bool) (*Publication, error) {
	var out *Publication
	err := database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		p, err := Get(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := setPublic(ctx, tx, actor, now, p, public); err != nil {
			return err
		}
		out, err = Get(ctx, tx, id)
		return err
	})
	return out, err
}

func setPublic(ctx context.Context, tx bun.Tx, actor audit.Actor, now time.Time, p *Publication, public bool) error {
	if p.Public() == public {
		return nil
	}
	var since any
	if public {
		since = now.UTC()
	}
	if _, err := tx.NewRaw("UPDATE schedule_publications SET public_since = ? WHERE id = ?", since, p.ID).Exec(ctx); err != nil {
		return fmt.Errorf("development schedule %d: %w", p.ID, err)
	}
	action := "schedule.made_public"
	if !public {
		action = "schedule.made_private"
	}
	return audit.Record(ctx, tx, now, audit.Event{Actor: actor, Action: action, EntityType: "development_schedule",
		EntityID: fmt.Sprintf("%s v%d", p.Quarter, p.Version)})
}

// Verify reports whether a publication's stored PDF still matches its stored checksum.
func (p *Publication) Verify() bool {
	sum := sha256.Sum256(p.PDF)
	return bytes.Equal(sum[:], p.SHA256)
}
