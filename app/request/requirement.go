package request

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/database"
	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/notify"
	"github.com/nhs-esr/portal/app/problem"
)

// The requirement definition is written by the raising organisation and the development team together.
// Every save is a new numbered version, kept with its author and time. Each side agrees a version;
// agreement rows name the version they agreed, so a new version leaves both sides needing to agree
// again without anything being deleted (RequirementAgreed compares with the latest version).

// Sides of a requirement agreement.
const (
	SideRequester   = "requester"   // the raising organisation
	SideDevelopment = "development" // the ESR development team
)

// MaxRequirementLength is the most characters a requirement definition may hold.
const MaxRequirementLength = 20000

// SideLabel is a side of an agreement in words.
func SideLabel(side string) string {
	if side == SideDevelopment {
		return "the development team"
	}
	return "the requester"
}

// RequirementVersion is one saved version of a request's requirement definition.
type RequirementVersion struct {
	bun.BaseModel `bun:"table:requirement_versions,alias:rv"`

	ID         int64     `bun:"id,pk,autoincrement"`
	RequestID  int64     `bun:"request_id"`
	Version    int       `bun:"version"`
	Body       string    `bun:"body"`
	AuthorID   int64     `bun:"author_id"`
	CreatedAt  time.Time `bun:"created_at"`
	AuthorName string    `bun:"author_name,scanonly"`
}

// RequirementAgreement is one side's agreement to a version.
type RequirementAgreement struct {
	bun.BaseModel `bun:"table:requirement_agreements,alias:ra"`

	RequestID int64     `bun:"request_id,pk"`
	Side      string    `bun:"side,pk"`
	Version   int       `bun:"version"`
	UserID    int64     `bun:"user_id"`
	AgreedAt  time.Time `bun:"agreed_at"`
	UserName  string    `bun:"user_name,scanonly"`
}

// Requirement is a request's requirement definition: every version, oldest first, and each side's
// latest agreement.
type Requirement struct {
	Versions   []RequirementVersion
	Agreements []RequirementAgreement
}

// Current is the latest version, or nil when nothing has been written yet.
func (q *Requirement) Current() *RequirementVersion {
	if len(q.Versions) == 0 {
		return nil
	}
	return &q.Versions[len(q.Versions)-1]
}

// Latest is the number of the latest version; 0 when nothing has been written yet.
func (q *Requirement) Latest() int {
	if c := q.Current(); c != nil {
		return c.Version
	}
	return 0
}

// Version returns the version with the number, or nil.
func (q *Requirement) Version(n int) *RequirementVersion {
	for i := range q.Versions {
		if q.Versions[i].Version == n {
			return &q.Versions[i]
		}
	}
	return nil
}

// Agreement returns a side's latest agreement, whichever version it was, or nil.
func (q *Requirement) Agreement(side string) *RequirementAgreement {
	for i := range q.Agreements {
		if q.Agreements[i].Side == side {
			return &q.Agreements[i]
		}
	}
	return nil
}

// AgreedBy reports whether a side has agreed the latest version.
func (q *Requirement) AgreedBy(side string) bool {
	a := q.Agreement(side)
	return a != nil && q.Latest() > 0 && a.Version == q.Latest()
}

// Agreed reports whether both sides have agreed the latest version.
func (q *Requirement) Agreed() bool {
	return q.AgreedBy(SideRequester) && q.AgreedBy(SideDevelopment)
}

// GetRequirement reads a request's requirement definition. It does not check who is looking: callers
// have read the request through GetEnhancement first.
func GetRequirement(ctx context.Context, db bun.IDB, requestID int64) (*Requirement, error) {
	q := new(Requirement)
	err := db.NewSelect().Model(&q.Versions).ColumnExpr("rv.*").ColumnExpr("u.name AS author_name").
		Join("JOIN users AS u ON u.id = rv.author_id").
		Where("rv.request_id = ?", requestID).Order("rv.version").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("read requirement versions of request %d: %w", requestID, err)
	}
	err = db.NewSelect().Model(&q.Agreements).ColumnExpr("ra.*").ColumnExpr("u.name AS user_name").
		Join("JOIN users AS u ON u.id = ra.user_id").
		Where("ra.request_id = ?", requestID).Order("ra.side").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("read requirement agreements of request %d: %w", requestID, err)
	}
	return q, nil
}

// Editable reports whether a request's requirement definition and business justification may change
// now: only while the request is in requirements and justification.
func Editable(r *Request) bool { return r.Status == StatusRequirementsJustification }

// CanEditRequirement reports whether the viewer writes the requirement definition: the raising
// organisation (requester or NSIG member) and the development team.
func CanEditRequirement(v Viewer, r *Request) bool {
	return v.AccessTo(r) >= AccessFull && (v.IsRaiser(r) || v.Has(identity.RoleDevelopmentTeam))
}

// AgreementSide is the side the viewer agrees the requirement definition for, or "" when they agree
// for neither. Someone who is both of the raising organisation and on the development team agrees for
// the requester: one person never agrees for both sides.
func AgreementSide(v Viewer, r *Request) string {
	switch {
	case v.AccessTo(r) < AccessFull:
		return ""
	case v.IsRaiser(r):
		return SideRequester
	case v.Has(identity.RoleDevelopmentTeam):
		return SideDevelopment
	}
	return ""
}

// RequirementConflict is a save or an agreement made from a version that is no longer the latest.
// It holds the latest version and, for a save, what was typed, so that nothing is lost. It is a
// problem.ErrConflict.
type RequirementConflict struct {
	Current RequirementVersion
	Typed   string
	Based   int // the version the form was made from
}

func (e *RequirementConflict) Error() string {
	return fmt.Sprintf("requirement definition is at version %d, the form was made from version %d", e.Current.Version, e.Based)
}

// Unwrap makes the conflict a problem.ErrConflict.
func (e *RequirementConflict) Unwrap() error { return problem.ErrConflict }

// tidyText removes surrounding white space and turns Windows line ends into plain ones.
func tidyText(s string) string {
	return strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
}

// lockForWork locks a request for a change to its requirement definition, justification or
// attachments, and checks the viewer may see it in full (otherwise problem.ErrNotFound).
func lockForWork(ctx context.Context, tx bun.Tx, v Viewer, reference string) (*Request, error) {
	r, err := lockByReference(ctx, tx, reference)
	if err != nil {
		return nil, err
	}
	if r.Kind != KindEnhancement || v.AccessTo(r) < AccessFull {
		return nil, fmt.Errorf("request %s: %w", reference, problem.ErrNotFound)
	}
	return r, nil
}

// lockToEdit is lockForWork for a change to one of the request's documents (what, e.g. "requirement
// definition"): the viewer must be allowed to make it (may) and the request must still be at the stage
// where the document can change.
func lockToEdit(ctx context.Context, tx bun.Tx, v Viewer, reference, what string, may func(Viewer, *Request) bool) (*Request, error) {
	r, err := lockForWork(ctx, tx, v, reference)
	if err != nil {
		return nil, err
	}
	if !may(v, r) {
		return nil, fmt.Errorf("change the %s of %s: %w", what, reference, problem.ErrForbidden)
	}
	if !Editable(r) {
		return nil, notEditable(r, what)
	}
	return r, nil
}

func notEditable(r *Request, what string) error {
	return &RuleError{Field: "", Message: fmt.Sprintf("The %s can no longer be changed: the request is now ‘%s’", what, r.Status.Label())}
}

// latestRequirement returns the latest version of a request's requirement definition, or a zero
// version when there is none.
func latestRequirement(ctx context.Context, tx bun.IDB, requestID int64) (RequirementVersion, error) {
	var vs []RequirementVersion
	err := tx.NewSelect().Model(&vs).ColumnExpr("rv.*").ColumnExpr("u.name AS author_name").
		Join("JOIN users AS u ON u.id = rv.author_id").
		Where("rv.request_id = ?", requestID).Order("rv.version DESC").Limit(1).Scan(ctx)
	if err != nil {
		return RequirementVersion{}, fmt.Errorf("read latest requirement of request %d: %w", requestID, err)
	}
	if len(vs) == 0 {
		return RequirementVersion{}, nil
	}
	return vs[0], nil
}

// SaveRequirement saves a new version of a request's requirement definition, in one transaction with
// its timeline event, audit event and notifications. base is the version the form was made from (0
// when there was none): if someone has saved since, nothing is written and the error is a
// *RequirementConflict holding their version and the text typed. Text identical to the latest version
// writes nothing and returns the latest version. A new version clears both sides' agreement.
func SaveRequirement(ctx context.Context, db *bun.DB, v Viewer, actor audit.Actor, now time.Time, reference string, base int, body string) (*RequirementVersion, error) {
	body = tidyText(body)
	if body == "" {
		return nil, &RuleError{Field: "body", Message: "Enter the requirement definition"}
	}
	if utf8.RuneCountInString(body) > MaxRequirementLength {
		return nil, &RuleError{Field: "body", Message: fmt.Sprintf("The requirement definition must be %d characters or fewer", MaxRequirementLength)}
	}
	var out *RequirementVersion
	err := database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		r, err := lockToEdit(ctx, tx, v, reference, "requirement definition", CanEditRequirement)
		if err != nil {
			return err
		}
		latest, err := latestRequirement(ctx, tx, r.ID)
		if err != nil {
			return err
		}
		if latest.Version != base {
			return &RequirementConflict{Current: latest, Typed: body, Based: base}
		}
		if latest.Version > 0 && latest.Body == body {
			out = &latest
			return nil
		}
		var agreed int
		if err := tx.NewSelect().Table("requirement_agreements").ColumnExpr("count(*)").
			Where("request_id = ? AND version = ?", r.ID, latest.Version).Scan(ctx, &agreed); err != nil {
			return fmt.Errorf("read agreements of %s: %w", reference, err)
		}
		rv := &RequirementVersion{RequestID: r.ID, Version: latest.Version + 1, Body: body, AuthorID: v.UserID, CreatedAt: now, AuthorName: v.Name}
		if _, err := tx.NewInsert().Model(rv).Returning("id").Exec(ctx); err != nil {
			return fmt.Errorf("save requirement version %d of %s: %w", rv.Version, reference, err)
		}
		summary := fmt.Sprintf("Version %d of the requirement definition was saved.", rv.Version)
		if agreed > 0 {
			summary += fmt.Sprintf(" Version %d had been agreed; both sides now need to agree the new version.", latest.Version)
		}
		if err := addEvent(ctx, tx, Event{RequestID: r.ID, OccurredAt: now, ActorUserID: v.UserID, ActorName: v.Name,
			Kind: "requirement_saved", Summary: summary}); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, now, audit.Event{
			Actor: actor, Action: "requirement.saved", EntityType: "request", EntityID: r.Reference,
			Before: map[string]any{"version": latest.Version}, After: map[string]any{"version": rv.Version, "agreement_cleared": agreed > 0},
		}); err != nil {
			return err
		}
		title := fmt.Sprintf("%s: version %d of the requirement definition was saved", r.Reference, rv.Version)
		// Whoever agrees the requirement definition for either side may agree the new version from the email.
		if err := followAndTellReaders(ctx, tx, now, r, v.person(), title, summary, "/requests/"+r.Reference+"/requirement", nil, Offer{ActionAgree, rv.Version}); err != nil {
			return err
		}
		out = rv
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("save requirement of %s: %w", reference, err)
	}
	return out, nil
}

// AgreeRequirement records the viewer's side's agreement to a version of the requirement definition,
// which must be the latest (otherwise a *RequirementConflict holding the latest). It returns the side
// and whether both sides have now agreed it. Agreeing again what the side has already agreed changes
// nothing.
func AgreeRequirement(ctx context.Context, db *bun.DB, v Viewer, actor audit.Actor, now time.Time, reference string, version int) (string, bool, error) {
	var side string
	var both bool
	err := database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		var err error
		side, both, err = agreeRequirement(ctx, tx, v, actor, now, reference, version)
		return err
	})
	if err != nil {
		return "", false, fmt.Errorf("agree requirement of %s: %w", reference, err)
	}
	return side, both, nil
}

// agreeRequirement is AgreeRequirement in the caller's transaction.
func agreeRequirement(ctx context.Context, tx bun.Tx, v Viewer, actor audit.Actor, now time.Time, reference string, version int) (side string, both bool, err error) {
	r, err := lockToEdit(ctx, tx, v, reference, "requirement definition", func(v Viewer, r *Request) bool { return AgreementSide(v, r) != "" })
	if err != nil {
		return side, both, err
	}
	side = AgreementSide(v, r)
	latest, err := latestRequirement(ctx, tx, r.ID)
	if err != nil {
		return side, both, err
	}
	if latest.Version == 0 {
		return side, both, &RuleError{Field: "", Message: "There is no requirement definition to agree yet"}
	}
	if latest.Version != version {
		return side, both, &RequirementConflict{Current: latest, Based: version}
	}
	var agreed []RequirementAgreement
	if err := tx.NewSelect().Model(&agreed).Where("ra.request_id = ? AND ra.version = ?", r.ID, version).Scan(ctx); err != nil {
		return side, both, fmt.Errorf("read agreements of %s: %w", reference, err)
	}
	for _, a := range agreed {
		if a.Side == side {
			both = len(agreed) == 2
			return side, both, nil
		}
	}
	both = len(agreed) == 1
	if _, err := tx.NewRaw(`INSERT INTO requirement_agreements (request_id, side, version, user_id, agreed_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (request_id, side) DO UPDATE SET version = EXCLUDED.version, user_id = EXCLUDED.user_id, agreed_at = EXCLUDED.agreed_at`,
		r.ID, side, version, v.UserID, now).Exec(ctx); err != nil {
		return side, both, fmt.Errorf("agree requirement of %s: %w", reference, err)
	}
	summary := fmt.Sprintf("Version %d of the requirement definition was agreed for %s.", version, SideLabel(side))
	if both {
		summary += " Both sides have now agreed it."
	}
	if err := addEvent(ctx, tx, Event{RequestID: r.ID, OccurredAt: now, ActorUserID: v.UserID, ActorName: v.Name,
		Kind: "requirement_agreed", Summary: summary}); err != nil {
		return side, both, err
	}
	if err := audit.Record(ctx, tx, now, audit.Event{
		Actor: actor, Action: "requirement.agreed", EntityType: "request", EntityID: r.Reference,
		After: map[string]any{"version": version, "side": side, "both_agreed": both},
	}); err != nil {
		return side, both, err
	}
	title := fmt.Sprintf("%s: %s agreed the requirement definition", r.Reference, SideLabel(side))
	var offers []Offer
	if both {
		title = fmt.Sprintf("%s: the requirement definition is agreed by both sides", r.Reference)
	} else {
		// The other side's followers may agree it straight from the email.
		offers = []Offer{{ActionAgree, version}}
	}
	return side, both, followAndTellReaders(ctx, tx, now, r, v.person(), title, summary, "/requests/"+r.Reference+"/requirement", nil, offers...)
}

// tellReaders tells the followers of a request who may read it in full (notify.EventRequirements),
// never the actor nor anyone in told (who has heard in another message): the requirement definition,
// justification and attachments are for them only. The email offers each follower what of offers they
// may take.
func tellReaders(ctx context.Context, tx bun.Tx, now time.Time, r *Request, actor Person, title, body, link string, told map[int64]bool, offers ...Offer) error {
	return tellReadersAs(ctx, tx, now, r, actor, 0, title, body, link, told, offers...)
}

// followAndTellReaders makes the actor a follower of the request and tells its readers, as
// tellReaders does, in one statement less.
func followAndTellReaders(ctx context.Context, tx bun.Tx, now time.Time, r *Request, actor Person, title, body, link string, told map[int64]bool, offers ...Offer) error {
	return tellReadersAs(ctx, tx, now, r, actor, actor.UserID, title, body, link, told, offers...)
}

func tellReadersAs(ctx context.Context, tx bun.Tx, now time.Time, r *Request, actor Person, follower int64, title, body, link string, told map[int64]bool, offers ...Offer) error {
	return tellFollowers(ctx, tx, now, r, actor, follower, AccessFull, told, News{Event: notify.EventRequirements,
		Title: strings.ReplaceAll(title, "%", "%%"), Detail: body, MinLevel: AccessFull, Link: link, Actions: offers})
}

// DiffLine is one line of a comparison of two texts.
type DiffLine struct {
	Op   string // "same", "added", "removed", or "changed" (from WordDiff: see Words)
	Text string
	// Words is a changed line word by word: which words were removed and which added.
	Words []DiffWord
}

// maxDiffCells bounds the work of a comparison: texts whose changed middles are larger are shown as
// all removed, then all added.
const maxDiffCells = 4_000_000

// Diff compares two texts line by line (a longest common subsequence of lines) and returns the lines
// of both in order, marked as the same in both, removed from a, or added in b.
func Diff(a, b string) []DiffLine {
	x, y := splitLines(a), splitLines(b)
	var head, tail []DiffLine
	for len(x) > 0 && len(y) > 0 && x[0] == y[0] {
		head = append(head, DiffLine{Op: "same", Text: x[0]})
		x, y = x[1:], y[1:]
	}
	for len(x) > 0 && len(y) > 0 && x[len(x)-1] == y[len(y)-1] {
		tail = append([]DiffLine{{Op: "same", Text: x[len(x)-1]}}, tail...)
		x, y = x[:len(x)-1], y[:len(y)-1]
	}
	out := head
	if len(x)*len(y) > maxDiffCells {
		for _, l := range x {
			out = append(out, DiffLine{Op: "removed", Text: l})
		}
		for _, l := range y {
			out = append(out, DiffLine{Op: "added", Text: l})
		}
		return append(out, tail...)
	}
	// lcs[i][j] is the length of the longest common subsequence of x[i:] and y[j:].
	lcs := make([][]int, len(x)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(y)+1)
	}
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	i, j := 0, 0
	for i < len(x) || j < len(y) {
		switch {
		case i < len(x) && j < len(y) && x[i] == y[j]:
			out = append(out, DiffLine{Op: "same", Text: x[i]})
			i, j = i+1, j+1
		case i < len(x) && (j == len(y) || lcs[i+1][j] >= lcs[i][j+1]):
			out = append(out, DiffLine{Op: "removed", Text: x[i]})
			i++
		default:
			out = append(out, DiffLine{Op: "added", Text: y[j]})
			j++
		}
	}
	return append(out, tail...)
}

func splitLines(s string) []string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}
