package app

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/nhs-esr/portal/app/downtime"
	"github.com/nhs-esr/portal/forms"
)

// noticeTTL is how long the current downtime notices are kept in memory: a notice made through another
// instance shows here within it.
const noticeTTL = 30 * time.Second

// notices caches the current downtime notices, which every page shows.
type notices struct {
	mu   sync.Mutex
	at   time.Time
	data []downtime.Notice
}

// current returns the notices to show. A failed read keeps what was read before (for a TTL), so that
// pages served while the database is away do not wait on it.
func (n *notices) current(ctx context.Context, a *App) []downtime.Notice {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.at.IsZero() && time.Since(n.at) < noticeTTL {
		return n.data
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	// Read with a margin so that a notice due to show in the next TTL is not missed.
	data, err := downtime.Current(ctx, a.db, a.now().Add(noticeTTL))
	if err != nil {
		a.log.Warn("read downtime notices", "err", err)
	} else {
		n.data = data
	}
	n.at = time.Now()
	return n.data
}

func (n *notices) forget() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.at = time.Time{}
}

// NoticeBanner is a downtime notice as the banner on every page shows it.
type NoticeBanner struct {
	Heading  string
	Text     string
	When     string
	ReadOnly bool // the downtime is on now and the portal is read-only
}

// banners are the notices to show at now.
func (a *App) banners(ctx context.Context) []NoticeBanner {
	now := a.now()
	var out []NoticeBanner
	for _, n := range a.notices.current(ctx, a) {
		if now.Before(n.ShowFrom) || !now.Before(n.EndsAt) {
			continue
		}
		b := NoticeBanner{Text: n.Message}
		if n.Kind == downtime.Emergency {
			b.Heading = "The portal has a problem"
			b.When = "Expected to be fixed by " + n.EndsAt.In(london).Format("3:04pm on Monday 2 January")
		} else {
			b.Heading = "Planned downtime"
			b.When = fmt.Sprintf("From %s to %s. You can read the portal but not change anything during this time.",
				n.StartsAt.In(london).Format("3:04pm on Monday 2 January 2006"), n.EndsAt.In(london).Format("3:04pm on Monday 2 January 2006"))
			b.ReadOnly = n.InWindow(now)
			if b.ReadOnly {
				b.Heading = "The portal is read-only for planned maintenance"
				b.When = "Until " + n.EndsAt.In(london).Format("3:04pm on Monday 2 January") + ". You can read everything, but nothing can be changed until then."
			}
		}
		out = append(out, b)
	}
	return out
}

// readOnlyUntil says whether a planned downtime is on now, and until when.
func (a *App) readOnlyUntil(ctx context.Context) (time.Time, bool) {
	now := a.now()
	for _, n := range a.notices.current(ctx, a) {
		if n.Kind == downtime.Planned && n.InWindow(now) {
			return n.EndsAt, true
		}
	}
	return time.Time{}, false
}

// writesDuringDowntime are the forms still accepted while the portal is read-only: signing in and out.
var writesDuringDowntime = map[string]bool{
	"/sign-in": true, "/sign-out": true, "/sign-in/code": true, "/sign-in/recovery": true,
}

type downtimePage struct {
	Page
	Upcoming []downtime.Notice
	Past     []downtime.Notice
	Admin    bool
}

// downtimeIndex lists the notices: current and coming, and past ones.
func (a *App) downtimeIndex(c *fiber.Ctx) error {
	up, past, err := downtime.List(c.UserContext(), a.db, a.now())
	if err != nil {
		return err
	}
	v := visitOf(c)
	p := &downtimePage{Page: a.page(c, "Downtime notices"), Upcoming: up, Past: past, Admin: v.user != nil && v.user.HasRole(admin)}
	return a.render(c, fiber.StatusOK, "downtime/index", p)
}

type downtimeFormPage struct {
	Page
	Form forms.Downtime
}

func (a *App) downtimeNew(c *fiber.Ctx) error {
	return a.render(c, fiber.StatusOK, "downtime/new", &downtimeFormPage{Page: a.page(c, "Announce downtime"), Form: forms.Downtime{ShowDays: "7"}})
}

// parseTime reads HH:MM on a day, in London.
func atTime(day time.Time, hhmm string) (time.Time, bool) {
	h, m, ok := strings.Cut(strings.TrimSpace(hhmm), ":")
	hour, err1 := strconv.Atoi(h)
	minute, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || hour < 0 || hour > 23 || minute < 0 || minute > 59 {
		return time.Time{}, false
	}
	return time.Date(day.Year(), day.Month(), day.Day(), hour, minute, 0, 0, london), true
}

func (a *App) downtimeCreate(c *fiber.Ctx) error {
	var f forms.Downtime
	if err := c.BodyParser(&f); err != nil {
		return fiber.ErrBadRequest
	}
	p := &downtimeFormPage{Page: a.page(c, "Announce downtime"), Form: f}
	errs := a.validate.Check(&f)
	in := downtime.New{Kind: f.Kind, Message: f.Message}
	if f.Kind == downtime.Planned {
		if d := dateField(&errs, "starts", "start date", f.StartDay, f.StartMonth, f.StartYear); !d.IsZero() {
			if t, ok := atTime(d, f.StartTime); ok {
				in.StartsAt = t
			} else {
				errs.Add("starts-time", "Enter the start time as hours and minutes, like 18:00")
			}
		}
		days, err := strconv.Atoi(strings.TrimSpace(f.ShowDays))
		if err != nil || days < 0 || days > 60 {
			errs.Add("show_days", "Enter how many days before to show the banner, from 0 to 60")
		}
		in.ShowDays = days
	}
	if d := dateField(&errs, "ends", "end date", f.EndDay, f.EndMonth, f.EndYear); !d.IsZero() {
		if t, ok := atTime(d, f.EndTime); ok {
			in.EndsAt = t
		} else {
			errs.Add("ends-time", "Enter the end time as hours and minutes, like 20:00")
		}
	}
	if errs.Any() {
		return a.invalid(c, "downtime/new", &p.Page, errs, p)
	}
	_, err := downtime.Create(c.UserContext(), a.db, a.actor(c), a.now(), in)
	switch {
	case errors.Is(err, downtime.ErrStartsInPast):
		errs.Add("starts-day", "Planned downtime must start in the future")
	case errors.Is(err, downtime.ErrEndsBeforeStart):
		errs.Add("ends-day", "The end must be after the start")
	case err != nil:
		return err
	}
	if errs.Any() {
		return a.invalid(c, "downtime/new", &p.Page, errs, p)
	}
	a.notices.forget()
	a.flash(c, "The downtime notice has been announced.")
	return c.Redirect("/downtime", fiber.StatusSeeOther)
}

func (a *App) downtimeWithdraw(c *fiber.Ctx) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	if err := downtime.Withdraw(c.UserContext(), a.db, a.actor(c), a.now(), id); err != nil {
		return err
	}
	a.notices.forget()
	a.flash(c, "The notice has been withdrawn.")
	return c.Redirect("/downtime", fiber.StatusSeeOther)
}
