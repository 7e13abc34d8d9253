package nsig

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/database"
	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/notify"
	"github.com/nhs-esr/portal/app/problem"
	"github.com/nhs-esr/portal/app/request"
)

// Purpose is why an NSIG meets: members have asked for agenda items, or the central team has
// information to share (ESR-NHS0132).
type Purpose string

// Meeting purposes.
const (
	PurposeMemberItems   Purpose = "member_items"
	PurposeCentralUpdate Purpose = "central_update"
)

// Label is the purpose in words.
func (p Purpose) Label() string {
	if p == PurposeCentralUpdate {
		return "Central team update"
	}
	return "Agenda items requested by members"
}

// Meeting is one NSIG meeting on Microsoft Teams.
type Meeting struct {
	bun.BaseModel `bun:"table:nsig_meetings,alias:mt"`

	ID                int64     `bun:"id,pk,autoincrement"`
	NSIGID            int64     `bun:"nsig_id"`
	StartsAt          time.Time `bun:"starts_at"`
	DurationMinutes   int       `bun:"duration_minutes"`
	TeamsLink         string    `bun:"teams_link"`
	Purpose           Purpose   `bun:"purpose"`
	AgendaPublishedAt time.Time `bun:"agenda_published_at,nullzero"`
	AgendaSequence    int       `bun:"agenda_sequence"`
	CreatedBy         int64     `bun:"created_by"`
	CreatedAt         time.Time `bun:"created_at"`

	NSIGName string `bun:"nsig_name,scanonly"` // the NSIG that scheduled it
	// Every NSIG holding it, by name: more than one for a joint session.
	NSIGIDs   []int64  `bun:"nsig_ids,array,scanonly"`
	NSIGNames []string `bun:"nsig_names,array,scanonly"`
}

// Joint reports whether several NSIGs hold the meeting.
func (m *Meeting) Joint() bool { return len(m.NSIGIDs) > 1 }

// Holders names the NSIGs holding the meeting: "Payroll and Pensions" or "Payroll and Pensions and
// Self Service and Portal".
func (m *Meeting) Holders() string {
	if len(m.NSIGNames) == 0 {
		return m.NSIGName
	}
	return strings.Join(m.NSIGNames, " and ")
}

// EndsAt is when the meeting is due to finish.
func (m *Meeting) EndsAt() time.Time {
	return m.StartsAt.Add(time.Duration(m.DurationMinutes) * time.Minute)
}

// Started reports whether the meeting has begun by now: its attendance, minutes and actions can then
// be recorded, and no more agenda items requested.
func (m *Meeting) Started(now time.Time) bool { return !now.Before(m.StartsAt) }

// Published reports whether the agenda has been published to the members.
func (m *Meeting) Published() bool { return !m.AgendaPublishedAt.IsZero() }

// CanRun reports whether the viewer runs an NSIG's meetings: the central team, or the NSIG's chair.
func CanRun(v request.Viewer, n *NSIG) bool {
	return v.Has(identity.RoleCentralTeam) || (n.ChairUserID != 0 && n.ChairUserID == v.UserID && v.Has(identity.RoleNSIGMember))
}

// CanRequestItems reports whether the viewer may ask for agenda items at an NSIG's meetings: its
// members and deputies, and the central team.
func CanRequestItems(v request.Viewer, n *NSIG) bool {
	return v.Has(identity.RoleCentralTeam) || (v.Has(identity.RoleNSIGMember) && slices.Contains(v.NSIGIDs, n.ID))
}

func selectMeetings(db bun.IDB, dest any) *bun.SelectQuery {
	return db.NewSelect().Model(dest).ColumnExpr("mt.*, n.name AS nsig_name").
		ColumnExpr(`ARRAY(SELECT mn.nsig_id FROM meeting_nsigs AS mn JOIN nsigs AS n2 ON n2.id = mn.nsig_id WHERE mn.meeting_id = mt.id ORDER BY n2.name) AS nsig_ids`).
		ColumnExpr(`ARRAY(SELECT n2.name FROM meeting_nsigs AS mn JOIN nsigs AS n2 ON n2.id = mn.nsig_id WHERE mn.meeting_id = mt.id ORDER BY n2.name) AS nsig_names`).
		Join("JOIN nsigs AS n ON n.id = mt.nsig_id")
}

// heldBy is the condition that an NSIG holds meeting mt, alone or jointly.
const heldBy = "mt.id IN (SELECT meeting_id FROM meeting_nsigs WHERE nsig_id = ?)"

// Meetings returns the meetings an NSIG holds, alone or jointly, the latest first.
func Meetings(ctx context.Context, db bun.IDB, nsigID int64) ([]Meeting, error) {
	var out []Meeting
	if err := selectMeetings(db, &out).Where(heldBy, nsigID).Order("mt.starts_at DESC").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list meetings of NSIG %d: %w", nsigID, err)
	}
	return out, nil
}

// GetMeeting returns an NSIG's meeting, or problem.ErrNotFound.
func GetMeeting(ctx context.Context, db bun.IDB, nsigID, id int64) (*Meeting, error) {
	m := new(Meeting)
	err := selectMeetings(db, m).Where("mt.id = ?", id).Where(heldBy, nsigID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("meeting %d of NSIG %d: %w", id, nsigID, problem.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get meeting %d: %w", id, err)
	}
	return m, nil
}

// MeetingInput is what the schedule form sends, already parsed.
type MeetingInput struct {
	StartsAt        time.Time
	DurationMinutes int
	TeamsLink       string
	Purpose         Purpose
	// With are the other NSIGs holding a joint session with the one scheduling it.
	With []int64
}

// teamsHosts are where Microsoft Teams meeting links point.
var teamsHosts = regexp.MustCompile(`(^|\.)teams\.(microsoft|live)\.com$`)

func checkMeeting(in *MeetingInput, now time.Time) error {
	in.TeamsLink = strings.TrimSpace(in.TeamsLink)
	u, err := url.Parse(in.TeamsLink)
	switch {
	case in.StartsAt.IsZero():
		return &request.RuleError{Field: "date-day", Message: "Enter the date of the meeting"}
	case !in.StartsAt.After(now):
		return &request.RuleError{Field: "date-day", Message: "The meeting must be in the future"}
	case in.DurationMinutes < 15 || in.DurationMinutes > 480:
		return &request.RuleError{Field: "duration", Message: "Select how long the meeting lasts"}
	case in.TeamsLink == "":
		return &request.RuleError{Field: "teams_link", Message: "Enter the Microsoft Teams meeting link"}
	case err != nil || u.Scheme != "https" || !teamsHosts.MatchString(u.Hostname()) || len(in.TeamsLink) > 2000:
		return &request.RuleError{Field: "teams_link", Message: "Enter a Microsoft Teams meeting link, starting https://teams.microsoft.com/"}
	case in.Purpose != PurposeMemberItems && in.Purpose != PurposeCentralUpdate:
		return &request.RuleError{Field: "purpose", Message: "Select what the meeting is for"}
	}
	return nil
}

// Schedule adds a meeting of an NSIG. Only the central team schedules meetings.
func Schedule(ctx context.Context, db *bun.DB, v request.Viewer, actor audit.Actor, now time.Time, nsigID int64, in MeetingInput) (*Meeting, error) {
	if !v.Has(identity.RoleCentralTeam) {
		return nil, fmt.Errorf("schedule a meeting: %w", problem.ErrForbidden)
	}
	if err := checkMeeting(&in, now); err != nil {
		return nil, err
	}
	m := &Meeting{NSIGID: nsigID, StartsAt: in.StartsAt, DurationMinutes: in.DurationMinutes, TeamsLink: in.TeamsLink, Purpose: in.Purpose,
		CreatedBy: v.UserID, CreatedAt: now}
	err := database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		if _, err := lockNSIG(ctx, tx, nsigID); err != nil {
			return err
		}
		if _, err := tx.NewInsert().Model(m).ExcludeColumn("agenda_published_at").Returning("id").Exec(ctx); err != nil {
			return fmt.Errorf("add meeting: %w", err)
		}
		holders := []int64{nsigID}
		for _, id := range in.With {
			if id == nsigID || slices.Contains(holders, id) {
				continue
			}
			var status Status
			err := tx.NewSelect().Table("nsigs").Column("status").Where("id = ?", id).For("SHARE").Scan(ctx, &status)
			if errors.Is(err, sql.ErrNoRows) || (err == nil && status != StatusActive) {
				return &request.RuleError{Field: "with", Message: "Select active NSIGs to hold a joint session with"}
			}
			if err != nil {
				return fmt.Errorf("read NSIG %d: %w", id, err)
			}
			holders = append(holders, id)
		}
		if _, err := tx.NewRaw("INSERT INTO meeting_nsigs (meeting_id, nsig_id) SELECT ?, unnest(?::bigint[])", m.ID, pgdialect.Array(holders)).Exec(ctx); err != nil {
			return fmt.Errorf("record the NSIGs holding meeting %d: %w", m.ID, err)
		}
		m.NSIGIDs = holders
		return audit.Record(ctx, tx, now, audit.Event{Actor: actor, Action: "nsig.meeting_scheduled", EntityType: "nsig_meeting", EntityID: fmt.Sprint(m.ID),
			After: map[string]any{"nsig_id": nsigID, "nsig_ids": holders, "starts_at": m.StartsAt, "duration_minutes": m.DurationMinutes, "purpose": m.Purpose}})
	})
	if err != nil {
		return nil, fmt.Errorf("schedule meeting of NSIG %d: %w", nsigID, err)
	}
	return m, nil
}

// ItemStatus is where an agenda item stands.
type ItemStatus string

// Agenda item statuses.
const (
	ItemRequested ItemStatus = "requested"
	ItemAccepted  ItemStatus = "accepted"
	ItemDeclined  ItemStatus = "declined"
)

// Label is the status in words.
func (s ItemStatus) Label() string {
	switch s {
	case ItemAccepted:
		return "On the agenda"
	case ItemDeclined:
		return "Not taken"
	}
	return "Requested"
}

// AgendaItem is an item someone asked to discuss at a meeting.
type AgendaItem struct {
	bun.BaseModel `bun:"table:agenda_items,alias:ai"`

	ID          int64      `bun:"id,pk,autoincrement"`
	MeetingID   int64      `bun:"meeting_id"`
	Title       string     `bun:"title"`
	Description string     `bun:"description"`
	RequestedBy int64      `bun:"requested_by"`
	RequestedAt time.Time  `bun:"requested_at"`
	Status      ItemStatus `bun:"status"`
	DecidedBy   int64      `bun:"decided_by,nullzero"`
	DecidedAt   time.Time  `bun:"decided_at,nullzero"`
	Minutes     string     `bun:"minutes"`
	Outcome     string     `bun:"outcome"`

	RequestedByName string   `bun:"requested_by_name,scanonly"`
	References      []string `bun:"refs,array,scanonly"` // the linked requests
}

// Items returns a meeting's agenda items in the order they were asked for, with their linked requests:
// only those triage has accepted, which every NSIG member may see (a link made before that rule held
// is not shown).
func Items(ctx context.Context, db bun.IDB, meetingID int64) ([]AgendaItem, error) {
	var out []AgendaItem
	if err := db.NewSelect().Model(&out).ColumnExpr("ai.*, u.name AS requested_by_name").
		ColumnExpr(`ARRAY(SELECT r.reference FROM agenda_item_requests AS ar JOIN requests AS r ON r.id = ar.request_id
			WHERE ar.item_id = ai.id AND r.accepted ORDER BY r.reference) AS refs`).
		Join("JOIN users AS u ON u.id = ai.requested_by").
		Where("ai.meeting_id = ?", meetingID).Order("ai.id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list agenda items of meeting %d: %w", meetingID, err)
	}
	return out, nil
}

// ItemInput is what the agenda item request form sends.
type ItemInput struct {
	Title       string
	Description string
	References  string // linked requests' references, separated by commas or spaces
}

var referencePattern = regexp.MustCompile(`^[A-Z]{3}-\d{4}-\d{4}$`)

// splitReferences returns the distinct references in s, upper case, or the first that is not one.
func splitReferences(s string) ([]string, string) {
	var out []string
	for _, f := range strings.FieldsFunc(strings.ToUpper(s), func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\n' || r == '\r' || r == '\t' }) {
		if !referencePattern.MatchString(f) {
			return nil, f
		}
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out, ""
}

func checkItem(in *ItemInput, m *Meeting, now time.Time) ([]string, error) {
	in.Title = strings.Join(strings.Fields(in.Title), " ")
	in.Description = strings.TrimSpace(in.Description)
	refs, bad := splitReferences(in.References)
	switch {
	case m.Started(now):
		return nil, &request.RuleError{Field: "title", Message: "This meeting has started, so no more agenda items can be requested for it"}
	case in.Title == "":
		return nil, &request.RuleError{Field: "title", Message: "Enter a title for the agenda item"}
	case len(in.Title) > maxText:
		return nil, &request.RuleError{Field: "title", Message: fmt.Sprintf("The title must be %d characters or fewer", maxText)}
	case len(in.Description) > maxComment:
		return nil, &request.RuleError{Field: "description", Message: fmt.Sprintf("The description must be %d characters or fewer", maxComment)}
	case bad != "":
		return nil, &request.RuleError{Field: "references", Message: fmt.Sprintf("%s is not a request reference: enter references like ENH-2026-0042", bad)}
	case len(refs) > 20:
		return nil, &request.RuleError{Field: "references", Message: "Link at most 20 requests"}
	}
	return refs, nil
}

// RequestItem asks for an agenda item at a meeting that has not started, with the requests it
// concerns, which the person asking must be able to see. The chair (or the central team) is told.
func RequestItem(ctx context.Context, db *bun.DB, v request.Viewer, actor audit.Actor, now time.Time, n *NSIG, meetingID int64, in ItemInput) (*AgendaItem, error) {
	if !CanRequestItems(v, n) {
		return nil, fmt.Errorf("request an agenda item: %w", problem.ErrForbidden)
	}
	var out *AgendaItem
	err := database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		m, err := GetMeeting(ctx, tx, n.ID, meetingID)
		if err != nil {
			return err
		}
		refs, err := checkItem(&in, m, now)
		if err != nil {
			return err
		}
		var ids []int64
		for _, ref := range refs {
			er, _, err := request.GetEnhancement(ctx, tx, v, ref)
			if errors.Is(err, problem.ErrNotFound) {
				return &request.RuleError{Field: "references", Message: fmt.Sprintf("There is no request %s that you can see", ref)}
			}
			if err != nil {
				return err
			}
			// An NSIG reviews requests triage has accepted; one that is not yet accepted is for the raising
			// organisation, its FAM and the central team alone, so it cannot go on an agenda every seat
			// holder reads.
			if !er.Accepted {
				return &request.RuleError{Field: "references", Message: fmt.Sprintf("%s has not been accepted by triage yet, so it cannot go on an NSIG agenda", er.Reference)}
			}
			ids = append(ids, er.ID)
		}
		it := &AgendaItem{MeetingID: m.ID, Title: in.Title, Description: in.Description, RequestedBy: v.UserID, RequestedAt: now,
			Status: ItemRequested, RequestedByName: v.Name, References: refs}
		if _, err := tx.NewInsert().Model(it).ExcludeColumn("decided_by", "decided_at").Returning("id").Exec(ctx); err != nil {
			return fmt.Errorf("add agenda item: %w", err)
		}
		for _, id := range ids {
			if _, err := tx.NewRaw("INSERT INTO agenda_item_requests (item_id, request_id) VALUES (?, ?)", it.ID, id).Exec(ctx); err != nil {
				return fmt.Errorf("link request %d: %w", id, err)
			}
		}
		if err := audit.Record(ctx, tx, now, audit.Event{Actor: actor, Action: "nsig.agenda_item_requested", EntityType: "agenda_item", EntityID: fmt.Sprint(it.ID),
			After: map[string]any{"meeting_id": m.ID, "title": it.Title, "requests": refs}}); err != nil {
			return err
		}
		out = it
		if n.ChairUserID == 0 || n.ChairUserID == v.UserID {
			return nil
		}
		return notify.Queue(ctx, tx, now, notify.Message{
			UserID: n.ChairUserID, Event: notify.EventNSIGAgenda,
			Title: fmt.Sprintf("Agenda item requested for the %s NSIG meeting on %s", n.Name, m.StartsAt.In(london).Format("2 January 2006")),
			Body:  fmt.Sprintf("%s asked for \"%s\".\n\n%s", v.Name, it.Title, it.Description),
			Link:  fmt.Sprintf("/nsigs/%d/meetings/%d", n.ID, m.ID),
		})
	})
	if err != nil {
		return nil, fmt.Errorf("request agenda item: %w", err)
	}
	return out, nil
}

var london = func() *time.Location {
	l, err := time.LoadLocation("Europe/London")
	if err != nil {
		panic(err)
	}
	return l
}()

// DecideItem accepts an agenda item onto the agenda or declines it, before the meeting starts. Only
// the chair or the central team decides; the person who asked is told.
func DecideItem(ctx context.Context, db *bun.DB, v request.Viewer, actor audit.Actor, now time.Time, n *NSIG, meetingID, itemID int64, accept bool) error {
	if !CanRun(v, n) {
		return fmt.Errorf("decide agenda item %d: %w", itemID, problem.ErrForbidden)
	}
	return database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		m, err := GetMeeting(ctx, tx, n.ID, meetingID)
		if err != nil {
			return err
		}
		if m.Started(now) {
			return &request.RuleError{Field: fmt.Sprintf("item-%d", itemID), Message: "The meeting has started, so its agenda can no longer change"}
		}
		status := ItemDeclined
		if accept {
			status = ItemAccepted
		}
		var it AgendaItem
		err = tx.NewSelect().Model(&it).Where("id = ? AND meeting_id = ?", itemID, m.ID).For("UPDATE").Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("agenda item %d: %w", itemID, problem.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("lock agenda item %d: %w", itemID, err)
		}
		if _, err := tx.NewUpdate().Table("agenda_items").Where("id = ?", it.ID).
			Set("status = ?", status).Set("decided_by = ?", v.UserID).Set("decided_at = ?", now).Exec(ctx); err != nil {
			return fmt.Errorf("decide agenda item %d: %w", it.ID, err)
		}
		if err := audit.Record(ctx, tx, now, audit.Event{Actor: actor, Action: "nsig.agenda_item_decided", EntityType: "agenda_item", EntityID: fmt.Sprint(it.ID),
			Before: map[string]any{"status": it.Status}, After: map[string]any{"status": status}}); err != nil {
			return err
		}
		if it.RequestedBy == v.UserID {
			return nil
		}
		title := fmt.Sprintf("\"%s\" is on the agenda of the %s NSIG meeting", it.Title, n.Name)
		if !accept {
			title = fmt.Sprintf("\"%s\" will not be discussed at the %s NSIG meeting", it.Title, n.Name)
		}
		return notify.Queue(ctx, tx, now, notify.Message{UserID: it.RequestedBy, Event: notify.EventNSIGAgenda, Title: title,
			Body: "The meeting is on " + m.StartsAt.In(london).Format("Monday 2 January 2006 at 3:04pm") + ".",
			Link: fmt.Sprintf("/nsigs/%d/meetings/%d", n.ID, m.ID)})
	})
}

// Publish publishes (or republishes) a meeting's agenda, before the meeting, to every current member
// and deputy of every NSIG holding it: each is told once, with a link to the meeting (through an NSIG
// they sit on) and its calendar file. The agenda needs at least one accepted item.
func Publish(ctx context.Context, db *bun.DB, v request.Viewer, actor audit.Actor, now time.Time, n *NSIG, meetingID int64) (int, error) {
	if !CanRun(v, n) {
		return 0, fmt.Errorf("publish agenda of meeting %d: %w", meetingID, problem.ErrForbidden)
	}
	told := 0
	err := database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		m, err := GetMeeting(ctx, tx, n.ID, meetingID)
		if err != nil {
			return err
		}
		if m.Started(now) {
			return &request.RuleError{Field: "publish", Message: "The meeting has started, so its agenda can no longer be published"}
		}
		items, err := Items(ctx, tx, m.ID)
		if err != nil {
			return err
		}
		var titles []string
		for _, it := range items {
			if it.Status == ItemAccepted {
				titles = append(titles, "- "+it.Title)
			}
		}
		if len(titles) == 0 {
			return &request.RuleError{Field: "publish", Message: "Accept at least one agenda item before publishing the agenda"}
		}
		if _, err := tx.NewUpdate().Table("nsig_meetings").Where("id = ?", m.ID).
			Set("agenda_published_at = ?", now).Set("agenda_sequence = agenda_sequence + 1").Exec(ctx); err != nil {
			return fmt.Errorf("publish agenda of meeting %d: %w", m.ID, err)
		}
		if err := audit.Record(ctx, tx, now, audit.Event{Actor: actor, Action: "nsig.agenda_published", EntityType: "nsig_meeting", EntityID: fmt.Sprint(m.ID),
			After: map[string]any{"items": len(titles), "republished": m.Published()}}); err != nil {
			return err
		}
		var holders []struct {
			UserID int64 `bun:"user_id"`
			NSIGID int64 `bun:"nsig_id"`
		}
		if err := tx.NewSelect().Table("nsig_appointments").ColumnExpr("user_id, min(nsig_id) AS nsig_id").
			Where("nsig_id IN (SELECT nsig_id FROM meeting_nsigs WHERE meeting_id = ?) AND ended_at IS NULL", m.ID).
			Group("user_id").Order("user_id").Scan(ctx, &holders); err != nil {
			return fmt.Errorf("list seat holders of the NSIGs holding meeting %d: %w", m.ID, err)
		}
		when := m.StartsAt.In(london).Format("Monday 2 January 2006 at 3:04pm")
		verb := "published"
		if m.Published() {
			verb = "updated"
		}
		what := m.Holders() + " NSIG meeting"
		if m.Joint() {
			what = "joint meeting of the " + m.Holders() + " NSIGs"
		}
		msgs := make([]notify.Message, 0, len(holders))
		for _, h := range holders {
			msgs = append(msgs, notify.Message{UserID: h.UserID, Event: notify.EventNSIGAgenda,
				Title: fmt.Sprintf("Agenda %s: %s on %s", verb, what, m.StartsAt.In(london).Format("2 January 2006")),
				Body:  fmt.Sprintf("The meeting is on Microsoft Teams on %s.\n\nAgenda:\n%s\n\nAdd it to your calendar from the meeting page.", when, strings.Join(titles, "\n")),
				Link:  fmt.Sprintf("/nsigs/%d/meetings/%d", h.NSIGID, m.ID)})
		}
		told = len(msgs)
		return notify.Queue(ctx, tx, now, msgs...)
	})
	if err != nil {
		return 0, fmt.Errorf("publish agenda: %w", err)
	}
	return told, nil
}

// Attendee is who attended a meeting for an NSIG's region.
type Attendee struct {
	NSIGID   int64    `bun:"nsig_id"`
	RegionID int16    `bun:"region_id"`
	UserID   int64    `bun:"user_id"`
	Position Position `bun:"position"`
	Name     string   `bun:"name"`
}

// SeatKey names a seat: an NSIG's region.
type SeatKey struct {
	NSIGID   int64
	RegionID int16
}

// Attendance returns who attended a meeting, by NSIG and region.
func Attendance(ctx context.Context, db bun.IDB, meetingID int64) ([]Attendee, error) {
	var out []Attendee
	if err := db.NewSelect().TableExpr("meeting_attendance AS ma").ColumnExpr("ma.nsig_id, ma.region_id, ma.user_id, ma.position, u.name").
		Join("JOIN users AS u ON u.id = ma.user_id").Where("ma.meeting_id = ?", meetingID).Order("ma.nsig_id", "ma.region_id").Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("read attendance of meeting %d: %w", meetingID, err)
	}
	return out, nil
}

// RecordAttendance records who attended for each region of each NSIG holding the meeting, after it has
// started: the seat's member, its deputy, or nobody (a seat left out). It replaces what was recorded
// before. A broken rule names the form field "seat-<nsig>-<region>".
func RecordAttendance(ctx context.Context, db *bun.DB, v request.Viewer, actor audit.Actor, now time.Time, n *NSIG, meetingID int64, attended map[SeatKey]Position) error {
	if !CanRun(v, n) {
		return fmt.Errorf("record attendance of meeting %d: %w", meetingID, problem.ErrForbidden)
	}
	return database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		m, err := GetMeeting(ctx, tx, n.ID, meetingID)
		if err != nil {
			return err
		}
		if !m.Started(now) {
			return &request.RuleError{Field: "attendance", Message: "Attendance can be recorded once the meeting has started"}
		}
		if _, err := tx.NewDelete().Table("meeting_attendance").Where("meeting_id = ?", m.ID).Exec(ctx); err != nil {
			return fmt.Errorf("clear attendance of meeting %d: %w", m.ID, err)
		}
		recorded := map[string]string{}
		for _, nsigID := range m.NSIGIDs {
			seats, err := SeatsOf(ctx, tx, nsigID)
			if err != nil {
				return err
			}
			for _, s := range seats {
				pos, ok := attended[SeatKey{NSIGID: nsigID, RegionID: s.RegionID}]
				if !ok || pos == "" {
					continue
				}
				ap := s.Holder(pos)
				if ap == nil || (pos != Member && pos != Deputy) {
					return &request.RuleError{Field: fmt.Sprintf("seat-%d-%d", nsigID, s.RegionID), Message: fmt.Sprintf("%s has no %s to attend for %s", s.RegionName, pos, s.NSIGName)}
				}
				if _, err := tx.NewRaw("INSERT INTO meeting_attendance (meeting_id, nsig_id, region_id, user_id, position) VALUES (?, ?, ?, ?, ?)",
					m.ID, nsigID, s.RegionID, ap.UserID, pos).Exec(ctx); err != nil {
					return fmt.Errorf("record attendance: %w", err)
				}
				recorded[s.NSIGName+", "+s.RegionName] = string(pos)
			}
		}
		return audit.Record(ctx, tx, now, audit.Event{Actor: actor, Action: "nsig.attendance_recorded", EntityType: "nsig_meeting", EntityID: fmt.Sprint(m.ID),
			After: map[string]any{"attended": recorded}})
	})
}

// MinutesInput is what the minutes form of an agenda item sends.
type MinutesInput struct {
	Minutes string
	Outcome string // what was agreed about the linked requests; it goes on their timelines
}

// RecordMinutes records the minutes of an accepted agenda item once the meeting has started. A new or
// changed outcome goes on the timeline of every request linked to the item, in the same transaction.
func RecordMinutes(ctx context.Context, db *bun.DB, v request.Viewer, actor audit.Actor, now time.Time, n *NSIG, meetingID, itemID int64, in MinutesInput) error {
	if !CanRun(v, n) {
		return fmt.Errorf("record minutes of item %d: %w", itemID, problem.ErrForbidden)
	}
	in.Minutes, in.Outcome = strings.TrimSpace(in.Minutes), strings.TrimSpace(in.Outcome)
	field := fmt.Sprintf("minutes-%d", itemID)
	switch {
	case in.Minutes == "":
		return &request.RuleError{Field: field, Message: "Enter the minutes of the item"}
	case len(in.Minutes) > 20000:
		return &request.RuleError{Field: field, Message: "The minutes must be 20000 characters or fewer"}
	case len(in.Outcome) > maxComment:
		return &request.RuleError{Field: fmt.Sprintf("outcome-%d", itemID), Message: fmt.Sprintf("The outcome must be %d characters or fewer", maxComment)}
	}
	return database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		m, err := GetMeeting(ctx, tx, n.ID, meetingID)
		if err != nil {
			return err
		}
		if !m.Started(now) {
			return &request.RuleError{Field: field, Message: "Minutes can be recorded once the meeting has started"}
		}
		var it AgendaItem
		err = tx.NewSelect().Model(&it).Where("id = ? AND meeting_id = ?", itemID, m.ID).For("UPDATE").Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("agenda item %d: %w", itemID, problem.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("lock agenda item %d: %w", itemID, err)
		}
		if it.Status != ItemAccepted {
			return &request.RuleError{Field: field, Message: "Only items on the agenda have minutes"}
		}
		if _, err := tx.NewUpdate().Table("agenda_items").Where("id = ?", it.ID).
			Set("minutes = ?", in.Minutes).Set("outcome = ?", in.Outcome).Exec(ctx); err != nil {
			return fmt.Errorf("save minutes of item %d: %w", it.ID, err)
		}
		if err := audit.Record(ctx, tx, now, audit.Event{Actor: actor, Action: "nsig.minutes_recorded", EntityType: "agenda_item", EntityID: fmt.Sprint(it.ID),
			Before: map[string]any{"minutes": it.Minutes, "outcome": it.Outcome}, After: map[string]any{"minutes": in.Minutes, "outcome": in.Outcome}}); err != nil {
			return err
		}
		if in.Outcome == "" || in.Outcome == it.Outcome {
			return nil
		}
		var linked []int64
		if err := tx.NewSelect().Table("agenda_item_requests").Column("request_id").Where("item_id = ?", it.ID).Scan(ctx, &linked); err != nil {
			return fmt.Errorf("list requests of item %d: %w", it.ID, err)
		}
		summary := fmt.Sprintf("Discussed at the %s NSIG meeting on %s (%s)", n.Name, m.StartsAt.In(london).Format("2 January 2006"), it.Title)
		for _, id := range linked {
			if _, err := tx.NewInsert().Model(&request.Event{RequestID: id, OccurredAt: now, ActorUserID: v.UserID, ActorName: v.Name,
				Kind: "nsig_outcome", Summary: summary, Detail: in.Outcome}).Exec(ctx); err != nil {
				return fmt.Errorf("add outcome to request %d: %w", id, err)
			}
		}
		return nil
	})
}

// Action is something a meeting agreed someone will do.
type Action struct {
	bun.BaseModel `bun:"table:meeting_actions,alias:ma"`

	ID          int64     `bun:"id,pk,autoincrement"`
	MeetingID   int64     `bun:"meeting_id"`
	Description string    `bun:"description"`
	OwnerID     int64     `bun:"owner_id"`
	DueOn       time.Time `bun:"due_on,type:date"`
	DoneAt      time.Time `bun:"done_at,nullzero"`
	DoneBy      int64     `bun:"done_by,nullzero"`
	CreatedBy   int64     `bun:"created_by"`
	CreatedAt   time.Time `bun:"created_at"`

	OwnerName       string    `bun:"owner_name,scanonly"`
	MeetingStartsAt time.Time `bun:"meeting_starts_at,scanonly"`
}

// Done reports whether the action is done.
func (a *Action) Done() bool { return !a.DoneAt.IsZero() }

func selectActions(db bun.IDB, dest any) *bun.SelectQuery {
	return db.NewSelect().Model(dest).ColumnExpr("ma.*, u.name AS owner_name, mt.starts_at AS meeting_starts_at").
		Join("JOIN users AS u ON u.id = ma.owner_id").Join("JOIN nsig_meetings AS mt ON mt.id = ma.meeting_id")
}

// Actions returns a meeting's actions, by due date.
func Actions(ctx context.Context, db bun.IDB, meetingID int64) ([]Action, error) {
	var out []Action
	if err := selectActions(db, &out).Where("ma.meeting_id = ?", meetingID).Order("ma.due_on", "ma.id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list actions of meeting %d: %w", meetingID, err)
	}
	return out, nil
}

// OpenActions returns the actions of the meetings an NSIG held, alone or jointly, not yet done, by due
// date.
func OpenActions(ctx context.Context, db bun.IDB, nsigID int64) ([]Action, error) {
	var out []Action
	if err := selectActions(db, &out).Where(heldBy+" AND ma.done_at IS NULL", nsigID).Order("ma.due_on", "ma.id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list open actions of NSIG %d: %w", nsigID, err)
	}
	return out, nil
}

// ActionInput is what the action form sends, already parsed.
type ActionInput struct {
	Description string
	OwnerID     int64
	DueOn       time.Time
}

// ActionOwners returns who can own a meeting's actions: the current members and deputies of every NSIG
// holding it, and the central team, by name.
func ActionOwners(ctx context.Context, db bun.IDB, meetingID int64) ([]identity.User, error) {
	var out []identity.User
	if err := db.NewSelect().TableExpr("users AS u").ColumnExpr("u.id, u.name, u.email").
		Where("u.status = 'active'").
		Where(`(u.id IN (SELECT user_id FROM nsig_appointments WHERE ended_at IS NULL
				AND nsig_id IN (SELECT nsig_id FROM meeting_nsigs WHERE meeting_id = ?))
			OR u.id IN (SELECT user_id FROM user_roles WHERE role = ?))`, meetingID, identity.RoleCentralTeam).
		Order("u.name", "u.id").Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("list action owners of meeting %d: %w", meetingID, err)
	}
	return out, nil
}

// linkFor is the path to a meeting for a user: through the first NSIG holding it that they sit on, or
// through n.
func linkFor(ctx context.Context, tx bun.IDB, userID int64, m *Meeting, n *NSIG) (string, error) {
	var ids []int64
	if err := tx.NewRaw(`SELECT nsig_id FROM nsig_appointments WHERE user_id = ? AND ended_at IS NULL AND nsig_id = ANY(?) ORDER BY nsig_id LIMIT 1`,
		userID, pgdialect.Array(m.NSIGIDs)).Scan(ctx, &ids); err != nil {
		return "", fmt.Errorf("link to meeting %d: %w", m.ID, err)
	}
	id := n.ID
	if len(ids) > 0 && !slices.Contains(ids, n.ID) {
		id = ids[0]
	}
	return fmt.Sprintf("/nsigs/%d/meetings/%d", id, m.ID), nil
}

// AddAction records an action agreed at a meeting that has started; its owner is told.
func AddAction(ctx context.Context, db *bun.DB, v request.Viewer, actor audit.Actor, now time.Time, n *NSIG, meetingID int64, in ActionInput) (*Action, error) {
	if !CanRun(v, n) {
		return nil, fmt.Errorf("add an action to meeting %d: %w", meetingID, problem.ErrForbidden)
	}
	in.Description = strings.TrimSpace(in.Description)
	var out *Action
	err := database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		m, err := GetMeeting(ctx, tx, n.ID, meetingID)
		if err != nil {
			return err
		}
		owners, err := ActionOwners(ctx, tx, m.ID)
		if err != nil {
			return err
		}
		switch {
		case !m.Started(now):
			return &request.RuleError{Field: "description", Message: "Actions can be recorded once the meeting has started"}
		case in.Description == "":
			return &request.RuleError{Field: "description", Message: "Enter the action"}
		case len(in.Description) > maxReason:
			return &request.RuleError{Field: "description", Message: fmt.Sprintf("The action must be %d characters or fewer", maxReason)}
		case !slices.ContainsFunc(owners, func(u identity.User) bool { return u.ID == in.OwnerID }):
			return &request.RuleError{Field: "owner_id", Message: "Select who owns the action"}
		case in.DueOn.IsZero():
			return &request.RuleError{Field: "due_on-day", Message: "Enter the date the action is due"}
		case day(in.DueOn).Before(day(m.StartsAt.In(london))):
			return &request.RuleError{Field: "due_on-day", Message: "The action must be due on or after the meeting"}
		}
		a := &Action{MeetingID: m.ID, Description: in.Description, OwnerID: in.OwnerID, DueOn: day(in.DueOn), CreatedBy: v.UserID, CreatedAt: now}
		if _, err := tx.NewInsert().Model(a).ExcludeColumn("done_at", "done_by").Returning("id").Exec(ctx); err != nil {
			return fmt.Errorf("add action: %w", err)
		}
		if err := audit.Record(ctx, tx, now, audit.Event{Actor: actor, Action: "nsig.action_added", EntityType: "meeting_action", EntityID: fmt.Sprint(a.ID),
			After: map[string]any{"meeting_id": m.ID, "description": a.Description, "owner_id": a.OwnerID, "due_on": a.DueOn.Format(time.DateOnly)}}); err != nil {
			return err
		}
		out = a
		if a.OwnerID == v.UserID {
			return nil
		}
		link, err := linkFor(ctx, tx, a.OwnerID, m, n)
		if err != nil {
			return err
		}
		return notify.Queue(ctx, tx, now, notify.Message{UserID: a.OwnerID, Event: notify.EventNSIGAgenda,
			Title: fmt.Sprintf("Action for you from the %s NSIG meeting, due %s", m.Holders(), a.DueOn.Format("2 January 2006")),
			Body:  a.Description, Link: link})
	})
	if err != nil {
		return nil, fmt.Errorf("add action: %w", err)
	}
	return out, nil
}

// SetActionDone marks an action done, or not done again. Its owner, the chair and the central team may.
func SetActionDone(ctx context.Context, db *bun.DB, v request.Viewer, actor audit.Actor, now time.Time, n *NSIG, meetingID, actionID int64, done bool) error {
	return database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		var a Action
		err := tx.NewSelect().Model(&a).Where("id = ? AND meeting_id = ?", actionID, meetingID).
			Where("meeting_id IN (SELECT meeting_id FROM meeting_nsigs WHERE nsig_id = ?)", n.ID).For("UPDATE").Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("action %d: %w", actionID, problem.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("lock action %d: %w", actionID, err)
		}
		if !CanRun(v, n) && a.OwnerID != v.UserID {
			return fmt.Errorf("mark action %d done: %w", actionID, problem.ErrForbidden)
		}
		q := tx.NewUpdate().Table("meeting_actions").Where("id = ?", a.ID)
		if done {
			q = q.Set("done_at = ?", now).Set("done_by = ?", v.UserID)
		} else {
			q = q.Set("done_at = NULL").Set("done_by = NULL")
		}
		if _, err := q.Exec(ctx); err != nil {
			return fmt.Errorf("mark action %d: %w", a.ID, err)
		}
		return audit.Record(ctx, tx, now, audit.Event{Actor: actor, Action: "nsig.action_marked", EntityType: "meeting_action", EntityID: fmt.Sprint(a.ID),
			Before: map[string]any{"done": a.Done()}, After: map[string]any{"done": done}})
	})
}

// NextMeeting returns an NSIG's next meeting that has not finished, or nil.
func NextMeeting(ctx context.Context, db bun.IDB, nsigID int64, now time.Time) (*Meeting, error) {
	m := new(Meeting)
	err := selectMeetings(db, m).Where(heldBy, nsigID).
		Where("mt.starts_at + make_interval(mins => mt.duration_minutes) > ?", now).Order("mt.starts_at").Limit(1).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find next meeting of NSIG %d: %w", nsigID, err)
	}
	return m, nil
}
