package nsig

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/database"
	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/notify"
	"github.com/nhs-esr/portal/app/problem"
	"github.com/nhs-esr/portal/app/request"
)

// Position is the place an appointment fills in a seat.
type Position string

// Positions in a seat: one member and an optional deputy, who stands in when the member is absent.
const (
	Member Position = "member"
	Deputy Position = "deputy"
)

// Label is the position in words.
func (p Position) Label() string {
	if p == Deputy {
		return "Deputy"
	}
	return "Member"
}

// HowChosen is how the regional SIG chose its nominee.
type HowChosen string

// How a regional SIG chooses its nominee (ESR-NHS0132: a democratic process).
const (
	ChosenElection  HowChosen = "election"
	ChosenUnopposed HowChosen = "unopposed"
	ChosenConsensus HowChosen = "consensus"
)

// HowChosenOptions lists the ways of choosing, with their labels.
var HowChosenOptions = []struct {
	Value HowChosen
	Label string
}{
	{ChosenElection, "Elected by a vote of the regional SIG"},
	{ChosenUnopposed, "The only nominee, unopposed"},
	{ChosenConsensus, "Agreed by consensus at a regional SIG meeting"},
}

// Label is how they were chosen, in words.
func (h HowChosen) Label() string {
	for _, o := range HowChosenOptions {
		if o.Value == h {
			return o.Label
		}
	}
	return string(h)
}

// Appointment is one person holding one position in one seat for a term. Ended appointments are kept.
type Appointment struct {
	bun.BaseModel `bun:"table:nsig_appointments,alias:ap"`

	ID              int64     `bun:"id,pk,autoincrement"`
	NSIGID          int64     `bun:"nsig_id"`
	RegionID        int16     `bun:"region_id"`
	Position        Position  `bun:"position"`
	UserID          int64     `bun:"user_id"`
	NominatingSIG   string    `bun:"nominating_sig"`
	NominatedOn     time.Time `bun:"nominated_on,type:date"`
	HowChosen       HowChosen `bun:"how_chosen"`
	TermStart       time.Time `bun:"term_start,type:date"`
	TermEnd         time.Time `bun:"term_end,type:date"`
	OtherNSIGReason string    `bun:"other_nsig_reason"`
	// Why someone from an organisation in another region holds the seat.
	OtherRegionReason string    `bun:"other_region_reason"`
	AppointedBy       int64     `bun:"appointed_by"`
	AppointedAt       time.Time `bun:"appointed_at"`
	EndedAt           time.Time `bun:"ended_at,nullzero"`
	EndedBy           int64     `bun:"ended_by,nullzero"`
	EndReason         string    `bun:"end_reason"`

	// Read with the appointment.
	UserName         string `bun:"user_name,scanonly"`
	UserEmail        string `bun:"user_email,scanonly"`
	OrganisationName string `bun:"organisation_name,scanonly"`
	NSIGName         string `bun:"nsig_name,scanonly"`
	RegionName       string `bun:"region_name,scanonly"`
	// The region of the holder's organisation: another region than the seat's needed confirming.
	UserRegionID   int16  `bun:"user_region_id,scanonly"`
	UserRegionName string `bun:"user_region_name,scanonly"`
}

// OutOfRegion reports whether the holder's organisation is in another region than the seat.
func (a *Appointment) OutOfRegion() bool { return a.UserRegionID != 0 && a.UserRegionID != a.RegionID }

// Current reports whether the appointment has not been ended.
func (a *Appointment) Current() bool { return a.EndedAt.IsZero() }

// StartedBy reports whether the term has started by the day (in London) of t.
func (a *Appointment) StartedBy(t time.Time) bool {
	return !request.Day(t.In(london)).Before(request.Day(a.TermStart))
}

// Cancelled reports whether the appointment was ended before its term started.
func (a *Appointment) Cancelled() bool { return !a.EndedAt.IsZero() && !a.StartedBy(a.EndedAt) }

func selectAppointments(db bun.IDB, dest any) *bun.SelectQuery {
	return db.NewSelect().Model(dest).ColumnExpr("ap.*").
		ColumnExpr("u.name AS user_name, u.email AS user_email, o.name AS organisation_name, n.name AS nsig_name, rg.name AS region_name").
		ColumnExpr("o.region_id AS user_region_id, urg.name AS user_region_name").
		Join("JOIN users AS u ON u.id = ap.user_id").
		Join("JOIN organisations AS o ON o.id = u.organisation_id").
		Join("JOIN regions AS urg ON urg.id = o.region_id").
		Join("JOIN nsigs AS n ON n.id = ap.nsig_id").
		Join("JOIN regions AS rg ON rg.id = ap.region_id")
}

// Seat is one region's seat on an NSIG, with whoever holds it now.
type Seat struct {
	NSIGID     int64
	NSIGName   string
	RegionID   int16
	RegionName string
	Member     *Appointment // nil when vacant
	Deputy     *Appointment // nil when there is no deputy
}

// Holder returns the current appointment in a position, or nil.
func (s *Seat) Holder(p Position) *Appointment {
	if p == Deputy {
		return s.Deputy
	}
	return s.Member
}

// SeatsOf returns an NSIG's eight seats in region order, with their current holders.
func SeatsOf(ctx context.Context, db bun.IDB, nsigID int64) ([]Seat, error) {
	all, err := allSeats(ctx, db, nsigID)
	if err != nil {
		return nil, err
	}
	return all, nil
}

// allSeats returns the seats of one NSIG (nsigID > 0) or of every NSIG (0), by NSIG name and region.
func allSeats(ctx context.Context, db bun.IDB, nsigID int64) ([]Seat, error) {
	var grid []struct {
		NSIGID     int64  `bun:"nsig_id"`
		NSIGName   string `bun:"nsig_name"`
		RegionID   int16  `bun:"region_id"`
		RegionName string `bun:"region_name"`
	}
	q := db.NewSelect().TableExpr("nsigs AS n").
		ColumnExpr("n.id AS nsig_id, n.name AS nsig_name, rg.id AS region_id, rg.name AS region_name").
		Join("CROSS JOIN regions AS rg").Order("n.name", "rg.sort_order")
	if nsigID > 0 {
		q = q.Where("n.id = ?", nsigID)
	} else {
		q = q.Where("n.status = ?", StatusActive)
	}
	if err := q.Scan(ctx, &grid); err != nil {
		return nil, fmt.Errorf("list seats: %w", err)
	}
	var current []Appointment
	aq := selectAppointments(db, &current).Where("ap.ended_at IS NULL")
	if nsigID > 0 {
		aq = aq.Where("ap.nsig_id = ?", nsigID)
	}
	if err := aq.Scan(ctx); err != nil {
		return nil, fmt.Errorf("list current appointments: %w", err)
	}
	type key struct {
		nsig   int64
		region int16
	}
	at := make(map[key]int, len(grid))
	out := make([]Seat, len(grid))
	for i, g := range grid {
		out[i] = Seat{NSIGID: g.NSIGID, NSIGName: g.NSIGName, RegionID: g.RegionID, RegionName: g.RegionName}
		at[key{g.NSIGID, g.RegionID}] = i
	}
	for i := range current {
		ap := &current[i]
		j, ok := at[key{ap.NSIGID, ap.RegionID}]
		if !ok {
			continue
		}
		if ap.Position == Deputy {
			out[j].Deputy = ap
		} else {
			out[j].Member = ap
		}
	}
	return out, nil
}

// SeatHistory returns every appointment to a seat, the latest first.
func SeatHistory(ctx context.Context, db bun.IDB, nsigID int64, regionID int16) ([]Appointment, error) {
	var out []Appointment
	if err := selectAppointments(db, &out).Where("ap.nsig_id = ? AND ap.region_id = ?", nsigID, regionID).
		Order("ap.appointed_at DESC", "ap.id DESC").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list appointments to seat %d/%d: %w", nsigID, regionID, err)
	}
	return out, nil
}

// GetAppointment returns an appointment, or problem.ErrNotFound.
func GetAppointment(ctx context.Context, db bun.IDB, id int64) (*Appointment, error) {
	ap := new(Appointment)
	err := selectAppointments(db, ap).Where("ap.id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("appointment %d: %w", id, problem.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get appointment %d: %w", id, err)
	}
	return ap, nil
}

// SeatsHeldBy returns the current appointments of a user, by NSIG and region.
func SeatsHeldBy(ctx context.Context, db bun.IDB, userID int64) ([]Appointment, error) {
	var out []Appointment
	if err := selectAppointments(db, &out).Where("ap.user_id = ? AND ap.ended_at IS NULL", userID).
		Order("n.name", "rg.sort_order").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list seats of user %d: %w", userID, err)
	}
	return out, nil
}

// Gaps is what the membership page shows: seats without a member, seats without a deputy, and current
// terms ending within the window (or already past their end).
type Gaps struct {
	Vacant       []Seat
	NoDeputy     []Seat
	Ending       []Appointment
	OutOfRegion  []Appointment // held by someone whose organisation is in another region
	Seats        int           // seats looked at: 8 for each active NSIG
	EndingWithin int           // days
}

// Membership returns the gaps in every active NSIG's seats as of today.
func Membership(ctx context.Context, db bun.IDB, today time.Time, within int) (*Gaps, error) {
	seats, err := allSeats(ctx, db, 0)
	if err != nil {
		return nil, err
	}
	g := &Gaps{Seats: len(seats), EndingWithin: within}
	limit := day(today).AddDate(0, 0, within)
	for _, s := range seats {
		if s.Member == nil {
			g.Vacant = append(g.Vacant, s)
		} else if s.Deputy == nil {
			g.NoDeputy = append(g.NoDeputy, s)
		}
		for _, ap := range []*Appointment{s.Member, s.Deputy} {
			if ap != nil && !ap.TermEnd.After(limit) {
				g.Ending = append(g.Ending, *ap)
			}
			if ap != nil && ap.OutOfRegion() {
				g.OutOfRegion = append(g.OutOfRegion, *ap)
			}
		}
	}
	slices.SortStableFunc(g.Ending, func(a, b Appointment) int { return a.TermEnd.Compare(b.TermEnd) })
	return g, nil
}

func day(t time.Time) time.Time { return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC) }

// AppointInput is what the appointment form sends, already parsed.
type AppointInput struct {
	Position      Position
	Email         string // the person, who must have an active portal account
	NominatingSIG string
	NominatedOn   time.Time
	HowChosen     HowChosen
	TermStart     time.Time
	TermEnd       time.Time
	// The person already sits on another NSIG: the appointment goes ahead only when confirmed, with
	// the reason, which is recorded.
	ConfirmOtherNSIG bool
	OtherNSIGReason  string
	// The person's organisation is in another region than the seat's: the appointment goes ahead only
	// when confirmed, with the reason, which is recorded.
	ConfirmOtherRegion bool
	OtherRegionReason  string
}

// OutOfRegionWarning is returned when the person's organisation is not in the seat's region and the
// appointment has not been confirmed: a seat is the region's voice on the NSIG.
type OutOfRegionWarning struct {
	Name         string
	Organisation string
	Region       string // the organisation's region
	SeatRegion   string
}

func (w *OutOfRegionWarning) Error() string {
	return fmt.Sprintf("%s is from %s in %s, not %s", w.Name, w.Organisation, w.Region, w.SeatRegion)
}

// OtherNSIGWarning is returned when the person already sits on another NSIG and the appointment has not
// been confirmed: ESR-NHS0132 recommends against one person sitting on several NSIGs.
type OtherNSIGWarning struct {
	Name  string
	NSIGs []string // the other NSIGs they sit on
}

func (w *OtherNSIGWarning) Error() string {
	return fmt.Sprintf("%s already sits on %s", w.Name, strings.Join(w.NSIGs, " and "))
}

// Limits on an appointment.
const (
	maxText      = 200
	maxReason    = 2000
	maxTermYears = 4
)

// candidate is the person being appointed, as the rules need them.
type candidate struct {
	ID           int64
	Name         string
	Active       bool
	Organisation string
	RegionID     int16
	RegionName   string
}

// checkAppointment returns the first rule an appointment to seat breaks: a *request.RuleError naming
// the form field, or an *OtherNSIGWarning when the person sits on other NSIGs and it is not confirmed.
// seat is the seat as it is now; others are the other NSIGs the person sits on; today is the date.
func checkAppointment(in *AppointInput, seat Seat, who candidate, others []string, today time.Time) error {
	in.NominatingSIG = strings.Join(strings.Fields(in.NominatingSIG), " ")
	in.OtherNSIGReason = strings.TrimSpace(in.OtherNSIGReason)
	today = day(today)
	switch {
	case in.Position != Member && in.Position != Deputy:
		return &request.RuleError{Field: "position", Message: "Select member or deputy"}
	case who.ID == 0:
		return &request.RuleError{Field: "email", Message: "Enter the email address of someone with a portal account"}
	case !who.Active:
		return &request.RuleError{Field: "email", Message: who.Name + "'s account is disabled: enable it first"}
	case in.NominatingSIG == "":
		return &request.RuleError{Field: "nominating_sig", Message: "Enter the regional SIG that nominated them"}
	case len(in.NominatingSIG) > maxText:
		return &request.RuleError{Field: "nominating_sig", Message: fmt.Sprintf("The regional SIG must be %d characters or fewer", maxText)}
	case in.NominatedOn.IsZero():
		return &request.RuleError{Field: "nominated_on-day", Message: "Enter the date they were nominated"}
	case day(in.NominatedOn).After(today):
		return &request.RuleError{Field: "nominated_on-day", Message: "The nomination date must be today or in the past"}
	case in.HowChosen.Label() == string(in.HowChosen):
		return &request.RuleError{Field: "how_chosen", Message: "Select how the regional SIG chose them"}
	case in.TermStart.IsZero():
		return &request.RuleError{Field: "term_start-day", Message: "Enter the date the term starts"}
	case day(in.TermStart).Before(day(in.NominatedOn)):
		return &request.RuleError{Field: "term_start-day", Message: "The term must start on or after the nomination date"}
	case in.TermEnd.IsZero():
		return &request.RuleError{Field: "term_end-day", Message: "Enter the date the term ends"}
	case !day(in.TermEnd).After(day(in.TermStart)):
		return &request.RuleError{Field: "term_end-day", Message: "The term must end after it starts"}
	case !day(in.TermEnd).After(today):
		return &request.RuleError{Field: "term_end-day", Message: "The term must end in the future"}
	case day(in.TermEnd).After(day(in.TermStart).AddDate(maxTermYears, 0, 0)):
		return &request.RuleError{Field: "term_end-day", Message: fmt.Sprintf("A term can be at most %d years", maxTermYears)}
	}
	if held := seat.Holder(in.Position); held != nil {
		return &request.RuleError{Field: "position", Message: fmt.Sprintf("The %s seat already has a %s, %s: end their term first",
			seat.RegionName, strings.ToLower(in.Position.Label()), held.UserName)}
	}
	if m := seat.Member; in.Position == Deputy && m != nil && m.UserID == who.ID {
		return &request.RuleError{Field: "email", Message: fmt.Sprintf("%s is the member for %s, so cannot be its deputy too", who.Name, seat.RegionName)}
	}
	if d := seat.Deputy; in.Position == Member && d != nil && d.UserID == who.ID {
		return &request.RuleError{Field: "email", Message: fmt.Sprintf("%s is the deputy for %s, so cannot be its member too: end their term as deputy first", who.Name, seat.RegionName)}
	}
	if len(others) > 0 {
		if !in.ConfirmOtherNSIG {
			return &OtherNSIGWarning{Name: who.Name, NSIGs: others}
		}
		if in.OtherNSIGReason == "" {
			return &request.RuleError{Field: "other_nsig_reason", Message: "Enter why they should sit on more than one NSIG"}
		}
		if len(in.OtherNSIGReason) > maxReason {
			return &request.RuleError{Field: "other_nsig_reason", Message: fmt.Sprintf("The reason must be %d characters or fewer", maxReason)}
		}
	} else {
		in.OtherNSIGReason = ""
	}
	in.OtherRegionReason = strings.TrimSpace(in.OtherRegionReason)
	if who.RegionID != seat.RegionID {
		if !in.ConfirmOtherRegion {
			return &OutOfRegionWarning{Name: who.Name, Organisation: who.Organisation, Region: who.RegionName, SeatRegion: seat.RegionName}
		}
		if in.OtherRegionReason == "" {
			return &request.RuleError{Field: "other_region_reason", Message: fmt.Sprintf("Enter why someone from %s should hold the %s seat", who.RegionName, seat.RegionName)}
		}
		if len(in.OtherRegionReason) > maxReason {
			return &request.RuleError{Field: "other_region_reason", Message: fmt.Sprintf("The reason must be %d characters or fewer", maxReason)}
		}
	} else {
		in.OtherRegionReason = ""
	}
	return nil
}

// RegionOf returns the organisation and region of the person with the email, for the appointment form's
// warning; empty when there is no such person.
func RegionOf(ctx context.Context, db bun.IDB, email string) (organisation string, regionID int16, region string, err error) {
	var rows []struct {
		Organisation string `bun:"organisation"`
		RegionID     int16  `bun:"region_id"`
		Region       string `bun:"region"`
	}
	if err := db.NewRaw(`SELECT o.name AS organisation, o.region_id, rg.name AS region FROM users AS u
		JOIN organisations AS o ON o.id = u.organisation_id JOIN regions AS rg ON rg.id = o.region_id
		WHERE lower(u.email) = lower(?)`, strings.TrimSpace(email)).Scan(ctx, &rows); err != nil {
		return "", 0, "", fmt.Errorf("region of %s: %w", email, err)
	}
	if len(rows) == 0 {
		return "", 0, "", nil
	}
	return rows[0].Organisation, rows[0].RegionID, rows[0].Region, nil
}

// Appoint fills a position in a seat, in one transaction: the appointment is recorded; the person gets
// the nsig_member role (if they lack it) and the NSIG's scope; the audit trail records both; and the
// person is told. Broken rules are *request.RuleError; a person on another NSIG, not yet confirmed, is
// *OtherNSIGWarning.
func Appoint(ctx context.Context, db *bun.DB, v request.Viewer, actor audit.Actor, now time.Time, nsigID int64, regionID int16, in AppointInput) (*Appointment, error) {
	if !CanManage(v) {
		return nil, fmt.Errorf("appoint to NSIG %d: %w", nsigID, problem.ErrForbidden)
	}
	var out *Appointment
	err := database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		// Locking the NSIG serialises appointments to its seats.
		n, err := lockNSIG(ctx, tx, nsigID)
		if err != nil {
			return err
		}
		seats, err := SeatsOf(ctx, tx, nsigID)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(seats, func(s Seat) bool { return s.RegionID == regionID })
		if i < 0 {
			return fmt.Errorf("region %d: %w", regionID, problem.ErrNotFound)
		}
		seat := seats[i]
		var who candidate
		var others []string
		u, err := identity.GetByEmail(ctx, tx, in.Email)
		switch {
		case errors.Is(err, problem.ErrNotFound):
		case err != nil:
			return err
		default:
			who = candidate{ID: u.ID, Name: u.Name, Active: u.Active(), Organisation: u.OrganisationName}
			if who.Organisation, who.RegionID, who.RegionName, err = RegionOf(ctx, tx, u.Email); err != nil {
				return err
			}
			held, err := SeatsHeldBy(ctx, tx, u.ID)
			if err != nil {
				return err
			}
			for _, h := range held {
				if h.NSIGID == nsigID && h.RegionID != regionID {
					return &request.RuleError{Field: "email", Message: fmt.Sprintf("%s already sits on %s for %s", u.Name, n.Name, h.RegionName)}
				}
				if h.NSIGID != nsigID && !slices.Contains(others, h.NSIGName) {
					others = append(others, h.NSIGName)
				}
			}
		}
		if err := checkAppointment(&in, seat, who, others, now); err != nil {
			return err
		}
		ap := &Appointment{NSIGID: nsigID, RegionID: regionID, Position: in.Position, UserID: u.ID, NominatingSIG: in.NominatingSIG,
			NominatedOn: day(in.NominatedOn), HowChosen: in.HowChosen, TermStart: day(in.TermStart), TermEnd: day(in.TermEnd),
			OtherNSIGReason: in.OtherNSIGReason, OtherRegionReason: in.OtherRegionReason, AppointedBy: v.UserID, AppointedAt: now,
			UserName: u.Name, UserEmail: u.Email, OrganisationName: u.OrganisationName, NSIGName: n.Name, RegionName: seat.RegionName}
		if _, err := tx.NewInsert().Model(ap).ExcludeColumn("ended_at", "ended_by").Returning("id").Exec(ctx); err != nil {
			if database.IsUniqueViolation(err, "nsig_appointments_current_key") {
				return fmt.Errorf("the seat was filled meanwhile: %w", problem.ErrConflict)
			}
			return fmt.Errorf("record appointment: %w", err)
		}
		after := map[string]any{"nsig": n.Name, "region": seat.RegionName, "position": ap.Position, "user_id": u.ID,
			"nominating_sig": ap.NominatingSIG, "nominated_on": ap.NominatedOn.Format(time.DateOnly), "how_chosen": ap.HowChosen,
			"term_start": ap.TermStart.Format(time.DateOnly), "term_end": ap.TermEnd.Format(time.DateOnly)}
		if len(others) > 0 {
			after["other_nsigs"] = others
			after["other_nsig_reason"] = ap.OtherNSIGReason
		}
		if ap.OtherRegionReason != "" {
			after["organisation_region"] = who.RegionName
			after["other_region_reason"] = ap.OtherRegionReason
		}
		if err := audit.Record(ctx, tx, now, audit.Event{Actor: actor, Action: "nsig.appointed", EntityType: "nsig_appointment",
			EntityID: fmt.Sprint(ap.ID), After: after}); err != nil {
			return err
		}
		if err := grantScope(ctx, tx, actor, now, u, nsigID); err != nil {
			return err
		}
		out = ap
		return notify.Queue(ctx, tx, now, notify.Message{
			UserID: u.ID, Event: notify.EventNSIGSeat, Title: fmt.Sprintf("You are the %s %s on the %s NSIG", seat.RegionName, strings.ToLower(ap.Position.Label()), n.Name),
			Body: fmt.Sprintf("The %s nominated you. Your term runs from %s to %s. You can now review and comment on the requests the NSIG looks at, and give the %s region's view of them.",
				ap.NominatingSIG, ap.TermStart.Format("2 January 2006"), ap.TermEnd.Format("2 January 2006"), seat.RegionName),
			Link: fmt.Sprintf("/nsigs/%d", nsigID),
		})
	})
	if err != nil {
		return nil, fmt.Errorf("appoint to NSIG %d region %d: %w", nsigID, regionID, err)
	}
	return out, nil
}

// grantScope gives a newly seated person the nsig_member role, if they lack it, and the NSIG's scope.
func grantScope(ctx context.Context, tx bun.Tx, actor audit.Actor, now time.Time, u *identity.User, nsigID int64) error {
	if _, err := tx.NewRaw("INSERT INTO user_nsigs (user_id, nsig_id, granted_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
		u.ID, nsigID, now).Exec(ctx); err != nil {
		return fmt.Errorf("grant NSIG %d to user %d: %w", nsigID, u.ID, err)
	}
	if u.HasRole(identity.RoleNSIGMember) {
		return nil
	}
	if _, err := tx.NewRaw("INSERT INTO user_roles (user_id, role, granted_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
		u.ID, identity.RoleNSIGMember, now).Exec(ctx); err != nil {
		return fmt.Errorf("grant nsig_member to user %d: %w", u.ID, err)
	}
	if _, err := tx.NewUpdate().Table("users").Where("id = ?", u.ID).Set("version = version + 1").Set("updated_at = ?", now).Exec(ctx); err != nil {
		return fmt.Errorf("update user %d: %w", u.ID, err)
	}
	return audit.Record(ctx, tx, now, audit.Event{Actor: actor, Action: "user.roles_changed", EntityType: "user", EntityID: fmt.Sprint(u.ID),
		Before: map[string]any{"roles": u.Roles}, After: map[string]any{"roles": append(slices.Clone(u.Roles), identity.RoleNSIGMember), "because": "appointed to an NSIG seat"}})
}

// EndInput is what the end-of-term form sends.
type EndInput struct {
	Reason string
}

// EndTerm ends a current appointment (it stays in the seat's history), in one transaction. When the
// person holds no other seat on the NSIG they lose its scope, and when they hold no seat at all they
// lose the nsig_member role; both are audited, and the person is told.
func EndTerm(ctx context.Context, db *bun.DB, v request.Viewer, actor audit.Actor, now time.Time, appointmentID int64, in EndInput) (*Appointment, error) {
	if !CanManage(v) {
		return nil, fmt.Errorf("end appointment %d: %w", appointmentID, problem.ErrForbidden)
	}
	in.Reason = strings.TrimSpace(in.Reason)
	switch {
	case in.Reason == "":
		return nil, &request.RuleError{Field: "reason", Message: "Enter why the term is ending"}
	case len(in.Reason) > maxReason:
		return nil, &request.RuleError{Field: "reason", Message: fmt.Sprintf("The reason must be %d characters or fewer", maxReason)}
	}
	var out *Appointment
	err := database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		ap, err := GetAppointment(ctx, tx, appointmentID)
		if err != nil {
			return err
		}
		if _, err := lockNSIG(ctx, tx, ap.NSIGID); err != nil {
			return err
		}
		res, err := tx.NewUpdate().Table("nsig_appointments").Where("id = ? AND ended_at IS NULL", ap.ID).
			Set("ended_at = ?", now).Set("ended_by = ?", database.NullID(v.UserID)).Set("end_reason = ?", in.Reason).Exec(ctx)
		if err != nil {
			return fmt.Errorf("end appointment %d: %w", ap.ID, err)
		}
		if k, err := res.RowsAffected(); err != nil || k != 1 {
			return fmt.Errorf("appointment %d has ended already: %w", ap.ID, problem.ErrConflict)
		}
		ap.EndedAt, ap.EndedBy, ap.EndReason = now, v.UserID, in.Reason
		if err := audit.Record(ctx, tx, now, audit.Event{Actor: actor, Action: "nsig.term_ended", EntityType: "nsig_appointment",
			EntityID: fmt.Sprint(ap.ID), Before: map[string]any{"nsig": ap.NSIGName, "region": ap.RegionName, "position": ap.Position, "user_id": ap.UserID},
			After: map[string]any{"ended": true, "reason": in.Reason}}); err != nil {
			return err
		}
		if err := revokeScope(ctx, tx, actor, now, ap); err != nil {
			return err
		}
		out = ap
		msg := notify.Message{
			UserID: ap.UserID, Event: notify.EventNSIGSeat,
			Title: fmt.Sprintf("Your term as %s %s on the %s NSIG has ended", ap.RegionName, strings.ToLower(ap.Position.Label()), ap.NSIGName),
			Body:  "Thank you for representing your region. " + in.Reason,
		}
		if ap.Cancelled() {
			msg.Title = fmt.Sprintf("Your appointment as %s %s on the %s NSIG has been cancelled before it started", ap.RegionName,
				strings.ToLower(ap.Position.Label()), ap.NSIGName)
			msg.Body = in.Reason
		}
		return notify.Queue(ctx, tx, now, msg)
	})
	if err != nil {
		return nil, fmt.Errorf("end appointment %d: %w", appointmentID, err)
	}
	return out, nil
}

// revokeScope takes away the NSIG's scope from someone who no longer holds a seat on it, and the
// nsig_member role from someone who holds no seat at all.
func revokeScope(ctx context.Context, tx bun.Tx, actor audit.Actor, now time.Time, ap *Appointment) error {
	held, err := SeatsHeldBy(ctx, tx, ap.UserID)
	if err != nil {
		return err
	}
	if slices.ContainsFunc(held, func(h Appointment) bool { return h.NSIGID == ap.NSIGID }) {
		return nil
	}
	if _, err := tx.NewDelete().Table("user_nsigs").Where("user_id = ? AND nsig_id = ?", ap.UserID, ap.NSIGID).Exec(ctx); err != nil {
		return fmt.Errorf("remove NSIG %d from user %d: %w", ap.NSIGID, ap.UserID, err)
	}
	if _, err := tx.NewUpdate().Table("nsigs").Where("id = ? AND chair_user_id = ?", ap.NSIGID, ap.UserID).
		Set("chair_user_id = NULL").Set("version = version + 1").Set("updated_at = ?", now).Exec(ctx); err != nil {
		return fmt.Errorf("clear chair of NSIG %d: %w", ap.NSIGID, err)
	}
	if len(held) > 0 {
		return nil
	}
	u, err := identity.Get(ctx, tx, ap.UserID)
	if err != nil {
		return err
	}
	if !u.HasRole(identity.RoleNSIGMember) {
		return nil
	}
	if _, err := tx.NewDelete().Table("user_roles").Where("user_id = ? AND role = ?", u.ID, identity.RoleNSIGMember).Exec(ctx); err != nil {
		return fmt.Errorf("remove nsig_member from user %d: %w", u.ID, err)
	}
	roles := slices.DeleteFunc(slices.Clone(u.Roles), func(r string) bool { return r == identity.RoleNSIGMember })
	if len(roles) == 0 {
		// An NSIG member may do everything a requester may; leaving the NSIG leaves them a requester.
		if _, err := tx.NewRaw("INSERT INTO user_roles (user_id, role, granted_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
			u.ID, identity.RoleRequester, now).Exec(ctx); err != nil {
			return fmt.Errorf("grant requester to user %d: %w", u.ID, err)
		}
		roles = []string{identity.RoleRequester}
	}
	if _, err := tx.NewUpdate().Table("users").Where("id = ?", u.ID).Set("version = version + 1").Set("updated_at = ?", now).Exec(ctx); err != nil {
		return fmt.Errorf("update user %d: %w", u.ID, err)
	}
	return audit.Record(ctx, tx, now, audit.Event{Actor: actor, Action: "user.roles_changed", EntityType: "user", EntityID: fmt.Sprint(u.ID),
		Before: map[string]any{"roles": u.Roles},
		After:  map[string]any{"roles": roles, "because": "no longer holds an NSIG seat"}})
}

// OtherNSIGs returns the names of the NSIGs other than nsigID on which the person with the email holds
// a seat now; none when there is no such person.
func OtherNSIGs(ctx context.Context, db bun.IDB, email string, nsigID int64) ([]string, error) {
	var names []string
	if err := db.NewSelect().TableExpr("nsig_appointments AS ap").ColumnExpr("DISTINCT n.name").
		Join("JOIN nsigs AS n ON n.id = ap.nsig_id").Join("JOIN users AS u ON u.id = ap.user_id").
		Where("lower(u.email) = lower(?) AND ap.nsig_id <> ? AND ap.ended_at IS NULL", strings.TrimSpace(email), nsigID).
		Order("n.name").Scan(ctx, &names); err != nil {
		return nil, fmt.Errorf("list other NSIGs of %s: %w", email, err)
	}
	return names, nil
}

// EndExpiredTerms ends every current appointment whose term ended before today (in London), each in its
// own transaction through EndTerm, as the system: the seat's history says the term ran out, the person
// loses the NSIG's scope and, with their last seat, the NSIG member role, and is told. It returns how
// many it ended. Several instances may run it at once: a term another run has ended is skipped.
func EndExpiredTerms(ctx context.Context, db *bun.DB, system request.Viewer, actor audit.Actor, now time.Time, today time.Time) (int, error) {
	var due []struct {
		ID      int64     `bun:"id"`
		TermEnd time.Time `bun:"term_end"`
	}
	if err := db.NewSelect().Table("nsig_appointments").Column("id", "term_end").
		Where("ended_at IS NULL AND term_end < ?", today.Format(time.DateOnly)).OrderExpr("id").Scan(ctx, &due); err != nil {
		return 0, fmt.Errorf("appointments past their term: %w", err)
	}
	ended := 0
	var errs []error
	for _, d := range due {
		_, err := EndTerm(ctx, db, system, actor, now, d.ID, EndInput{Reason: "The term ended on " + d.TermEnd.Format("2 January 2006") + "."})
		switch {
		case err == nil:
			ended++
		case errors.Is(err, problem.ErrConflict):
			// Another instance ended it first.
		default:
			errs = append(errs, err)
		}
	}
	return ended, errors.Join(errs...)
}
