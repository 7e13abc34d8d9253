package app

import (
	"context"
	"encoding/hex"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/request"
	"github.com/nhs-esr/portal/forms"
)

const auditPerPage = 50

type auditIndexPage struct {
	Page
	Events        []auditEvent
	Total         int
	ActionOptions []Option
	Filter        auditFilterForm
	Pagination    Pagination
}

// auditEvent is one audit row as the trail shows it: the action in words and its details as a list
// of fields.
type auditEvent struct {
	audit.Row
	Label      string
	Record     string // what it was done to, in words
	RecordHref string // its page, when the trail can link to it
	Changes    []audit.Change
}

// auditRecordNames are the kinds of record the trail names.
var auditRecordNames = map[string]string{
	"agenda_item": "Agenda item", "development_schedule": "Development Schedule", "downtime_notice": "Downtime notice",
	"draft": "Draft request", "linked_project": "Linked project", "meeting_action": "Meeting action", "nsig": "NSIG",
	"nsig_appointment": "NSIG appointment", "nsig_meeting": "NSIG meeting", "organisation": "Organisation",
	"region": "Region", "release": "Release", "request": "Request", "user": "User",
}

// auditRecord names the record an event was done to, and links to it where the trail can.
func auditRecord(entityType, entityID string) (name, href string) {
	kind, ok := auditRecordNames[entityType]
	if !ok {
		kind = audit.Label(entityType)
	}
	name = strings.TrimSpace(kind + " " + entityID)
	switch entityType {
	case "user":
		if id, err := strconv.ParseInt(entityID, 10, 64); err == nil && id > 0 {
			href = "/admin/users/" + entityID
		}
	case "release":
		if id, err := strconv.ParseInt(entityID, 10, 64); err == nil && id > 0 {
			href = "/releases/" + entityID
		}
	case "request":
		if entityID != "" {
			href = "/requests/" + url.PathEscape(entityID)
		}
	}
	return name, href
}

// auditEvents puts rows into words. A request's status reads as the status's label.
func auditEvents(rows []audit.Row) []auditEvent {
	out := make([]auditEvent, len(rows))
	for i, r := range rows {
		ch := audit.Changes(r.Before, r.After)
		for j := range ch {
			var words func(string) string
			switch {
			case ch[j].Field == "Status" && r.EntityType == "request":
				words = func(s string) string { return request.Status(s).Label() }
			case ch[j].Field == "Roles" || ch[j].Field == "Role":
				words = func(s string) string { return roleTitles(strings.Split(s, ", ")) }
			default:
				continue
			}
			if ch[j].Before != "" {
				ch[j].Before = words(ch[j].Before)
			}
			if ch[j].After != "" {
				ch[j].After = words(ch[j].After)
			}
		}
		out[i] = auditEvent{Row: r, Label: audit.Label(r.Action), Changes: ch}
		out[i].Record, out[i].RecordHref = auditRecord(r.EntityType, r.EntityID)
		if r.EntityName != "" {
			out[i].Record = r.EntityName
		}
	}
	return out
}

// auditFilterForm is the audit trail's filter, kept as typed so it can be shown back.
type auditFilterForm struct {
	Action                       string
	Who                          string
	EntityType                   string
	EntityID                     string
	FromDay, FromMonth, FromYear string
	ToDay, ToMonth, ToYear       string
}

var london = mustLondon()

func mustLondon() *time.Location {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		// time/tzdata is embedded by cmd/portal, so this only fails in a broken build.
		panic(err)
	}
	return loc
}

func (a *App) auditIndex(c *fiber.Ctx) error {
	pageNo := max(1, c.QueryInt("page", 1))
	ff := auditFilterForm{
		Action: c.Query("action"), Who: c.Query("who"), EntityType: c.Query("entity_type"), EntityID: c.Query("entity_id"),
		FromDay: c.Query("from-day"), FromMonth: c.Query("from-month"), FromYear: c.Query("from-year"),
		ToDay: c.Query("to-day"), ToMonth: c.Query("to-month"), ToYear: c.Query("to-year"),
	}
	f := audit.Filter{Action: ff.Action, Actor: ff.Who, EntityType: ff.EntityType, EntityID: ff.EntityID, Limit: auditPerPage, Offset: (pageNo - 1) * auditPerPage}
	var errs forms.Errors
	if utf8.RuneCountInString(ff.Who) > 200 {
		errs.Add("who", "Who did it must be 200 characters or fewer")
	}
	from, hasFrom, ok := parseDate(ff.FromDay, ff.FromMonth, ff.FromYear)
	if !ok {
		errs.Add("from-day", "Enter a real date for ‘from’, like 1 11 2026")
	} else if hasFrom {
		f.From = from
	}
	to, hasTo, ok := parseDate(ff.ToDay, ff.ToMonth, ff.ToYear)
	if !ok {
		errs.Add("to-day", "Enter a real date for ‘to’, like 30 11 2026")
	} else if hasTo {
		f.To = to.AddDate(0, 0, 1) // the whole of the last day
	}
	if hasFrom && hasTo && to.Before(from) {
		errs.Add("to-day", "The ‘to’ date must be the same as or after the ‘from’ date")
	}
	actions, err := audit.Actions(c.UserContext(), a.db)
	if err != nil {
		return err
	}
	p := &auditIndexPage{Page: a.page(c, "Audit trail"), Filter: ff}
	p.ActionOptions = []Option{{Value: "", Label: "Any action"}}
	sort.SliceStable(actions, func(i, j int) bool { return audit.Label(actions[i]) < audit.Label(actions[j]) })
	for _, act := range actions {
		p.ActionOptions = append(p.ActionOptions, Option{Value: act, Label: audit.Label(act)})
	}
	if errs.Any() {
		return a.invalid(c, "audit/index", &p.Page, errs, p)
	}
	events, total, err := audit.List(c.UserContext(), a.db, f)
	if err != nil {
		return err
	}
	p.Events, p.Total = auditEvents(events), total
	q := url.Values{}
	for k, v := range map[string]string{"action": ff.Action, "who": ff.Who, "entity_type": ff.EntityType, "entity_id": ff.EntityID,
		"from-day": ff.FromDay, "from-month": ff.FromMonth, "from-year": ff.FromYear, "to-day": ff.ToDay, "to-month": ff.ToMonth, "to-year": ff.ToYear} {
		if v != "" {
			q.Set(k, v)
		}
	}
	p.Pagination = paginate("/admin/audit", q, pageNo, auditPerPage, total)
	return a.render(c, fiber.StatusOK, "audit/index", p)
}

// checkpointEvery is how often each instance looks whether the audit trail's head is due a checkpoint;
// whichever gets there first in each audit.CheckpointInterval takes it.
const checkpointEvery = time.Minute

// sealAuditTrail checkpoints the head of the audit trail, signed with the audit key, at once and then
// at least every audit.CheckpointInterval until ctx ends.
func (a *App) sealAuditTrail(ctx context.Context) {
	if len(a.cfg.AuditKey) < 32 {
		a.log.Error("no audit key: the audit trail's head is not checkpointed, so rows removed from its end would go unnoticed")
		return
	}
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		a.checkpointAudit(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// checkpointAudit takes one checkpoint when one is due, and logs it, so that the log outside the
// database holds a copy of every seal.
func (a *App) checkpointAudit(ctx context.Context) {
	s, err := audit.TakeCheckpoint(ctx, a.db, a.cfg.AuditKey, a.now(), audit.CheckpointInterval)
	if err != nil {
		if ctx.Err() == nil {
			a.log.Error("audit checkpoint", "err", err)
		}
		return
	}
	for _, p := range s.Problems {
		a.log.Error("audit trail", "problem", p)
	}
	if c := s.Checkpoint; c != nil {
		a.log.Info("audit checkpoint", "id", c.ID, "rows", c.RowCount, "last_id", c.LastID,
			"head_hash", hex.EncodeToString(c.HeadHash), "key_id", c.KeyID, "mac", hex.EncodeToString(c.MAC))
	}
}
