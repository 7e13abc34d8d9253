package app

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/nhs-esr/portal/app/problem"
	"github.com/nhs-esr/portal/app/release"
	"github.com/nhs-esr/portal/app/request"
	"github.com/nhs-esr/portal/forms"
)

// releaseRow is one release as the list and the release page show it.
type releaseRow struct {
	ID       int64
	Number   int
	Name     string
	Title    string
	Target   string
	Released string
	Status   release.StatusInfo
	Changes  int
	Capacity string // "48 of 45 effort days"; "" when the viewer does not see effort
	Over     bool
}

func newReleaseRow(r *release.Release, effort bool) releaseRow {
	row := releaseRow{ID: r.ID, Number: r.Number, Name: r.Name, Title: r.Title(), Target: r.TargetDate.Format("2 January 2006"),
		Status: r.Status.Info(), Changes: r.Changes}
	if !r.ReleasedAt.IsZero() {
		row.Released = r.ReleasedAt.In(london).Format("2 January 2006")
	}
	if effort {
		row.Over = r.OverCapacity()
		used := release.FormatDays(r.UsedDays)
		if r.CapacityDays.Valid {
			row.Capacity = used + " of " + release.FormatDays(r.CapacityDays.Float64) + " effort days"
		} else {
			row.Capacity = used + " effort days (no capacity set)"
		}
	}
	return row
}

type releasesIndexPage struct {
	Page
	Releases   []releaseRow
	CanManage  bool
	ShowEffort bool // effort and capacity are for the central and development teams
}

func (a *App) releasesIndex(c *fiber.Ctx) error {
	v, err := a.viewer(c)
	if err != nil {
		return err
	}
	list, err := release.List(c.UserContext(), a.db)
	if err != nil {
		return err
	}
	p := &releasesIndexPage{Page: a.page(c, "Releases"), CanManage: release.CanManage(v), ShowEffort: release.National(v)}
	for i := range list {
		p.Releases = append(p.Releases, newReleaseRow(&list[i], p.ShowEffort))
	}
	return a.render(c, fiber.StatusOK, "releases/index", p)
}

// releaseChange is a request in a release, in words.
type releaseChange struct {
	release.Change
	StatusInfo request.StatusInfo
	Effort     string
}

// moveItem is a move between releases, in words.
type moveItem struct {
	release.AllocationMove
	When string
}

func moveItems(moves []release.AllocationMove) []moveItem {
	out := make([]moveItem, 0, len(moves))
	for _, m := range moves {
		out = append(out, moveItem{AllocationMove: m, When: m.MovedAt.In(london).Format("2 January 2006")})
	}
	return out
}

type releaseShowPage struct {
	Page
	Release    *release.Release
	Row        releaseRow
	Details    []SummaryRow
	Changes    []releaseChange
	Moves      []moveItem
	CanManage  bool
	ShowEffort bool
	OverBy     string // how many effort days over capacity
	Due        int    // the changes marking it released would deliver (those not yet delivered)
}

func (a *App) releaseFromParam(c *fiber.Ctx) (*release.Release, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return nil, fmt.Errorf("release %q: %w", c.Params("id"), problem.ErrNotFound)
	}
	return release.Get(c.UserContext(), a.db, id)
}

func (a *App) releaseShow(c *fiber.Ctx) error {
	ctx := c.UserContext()
	v, err := a.viewer(c)
	if err != nil {
		return err
	}
	r, err := a.releaseFromParam(c)
	if err != nil {
		return err
	}
	p := &releaseShowPage{Page: a.page(c, r.Title()), Release: r, CanManage: release.CanManage(v), ShowEffort: release.National(v)}
	p.Row = newReleaseRow(r, p.ShowEffort)
	p.Details = []SummaryRow{{Key: "Target date", Value: p.Row.Target}, {Key: "Status", Value: p.Row.Status.Label}}
	if p.Row.Released != "" {
		p.Details = append(p.Details, SummaryRow{Key: "Released", Value: p.Row.Released})
	}
	if p.ShowEffort {
		capacity := "Not set"
		if r.CapacityDays.Valid {
			capacity = release.FormatDays(r.CapacityDays.Float64) + " effort days"
		}
		p.Details = append(p.Details,
			SummaryRow{Key: "Capacity", Value: capacity},
			SummaryRow{Key: "Allocated", Value: fmt.Sprintf("%s effort days in %d %s", release.FormatDays(r.UsedDays), r.Changes, plural(r.Changes, "change", "changes"))})
		if r.OverCapacity() {
			p.OverBy = release.FormatDays(r.UsedDays - r.CapacityDays.Float64)
		}
	}
	changes, err := release.Changes(ctx, a.db, v, r.ID)
	if err != nil {
		return err
	}
	for _, ch := range changes {
		rc := releaseChange{Change: ch, StatusInfo: ch.Status.Info(), Effort: "Not assessed"}
		if ch.EffortDays.Valid {
			rc.Effort = release.FormatDays(ch.EffortDays.Float64)
		}
		p.Changes = append(p.Changes, rc)
		if ch.Status == request.StatusAllocated {
			p.Due++
		}
	}
	moves, err := release.Moves(ctx, a.db, v, r.ID)
	if err != nil {
		return err
	}
	p.Moves = moveItems(moves)
	return a.render(c, fiber.StatusOK, "releases/show", p)
}

type releaseFormPage struct {
	Page
	Release       *release.Release // the release being changed; nil when adding one
	Form          forms.Release
	StatusOptions []Option
}

func (a *App) releaseFormPage(c *fiber.Ctx, title string, f forms.Release, r *release.Release) *releaseFormPage {
	return &releaseFormPage{Page: a.page(c, title), Release: r, Form: f, StatusOptions: []Option{
		{Value: string(release.StatusPlanned), Label: "Planned", Hint: "Changes can be allocated to it"},
		{Value: string(release.StatusInProgress), Label: "In progress", Hint: "It is being built and tested; changes can still move in or out"},
	}}
}

func (a *App) releaseNew(c *fiber.Ctx) error {
	p := a.releaseFormPage(c, "Add a release", forms.Release{Status: string(release.StatusPlanned)}, nil)
	return a.render(c, fiber.StatusOK, "releases/new", p)
}

// releaseInput checks the release form and parses it; the errors are in field order.
func (a *App) releaseInput(f *forms.Release, released bool) (release.Input, forms.Errors) {
	errs := a.validate.Check(f)
	var in release.Input
	if errs.Get("number") == "" {
		n, err := strconv.Atoi(strings.TrimSpace(f.Number))
		if err != nil || n <= 0 {
			errs.Add("number", "The release number must be a whole number, like 74")
		}
		in.Number = n
	}
	in.Name = f.Name
	in.TargetDate = dateField(&errs, "target_date", "target date", f.TargetDay, f.TargetMonth, f.TargetYear)
	if !released && f.Status == "" {
		errs.Add("status", "Select whether the release is planned or in progress")
	}
	in.Status = release.Status(f.Status)
	if s := strings.TrimSpace(f.CapacityDays); s != "" && errs.Get("capacity_days") == "" {
		d, err := strconv.ParseFloat(s, 64)
		switch {
		case err != nil || math.IsNaN(d) || math.IsInf(d, 0):
			errs.Add("capacity_days", "Enter the capacity as a number of effort days, like 120 or 87.5")
		case d < 0:
			errs.Add("capacity_days", "The capacity must be 0 effort days or more")
		case d > 99999:
			errs.Add("capacity_days", "The capacity must be 99999 effort days or fewer")
		default:
			in.CapacityDays = sql.NullFloat64{Float64: math.Round(d*10) / 10, Valid: true}
		}
	}
	return in, errs
}

// ruleErrors turns a domain rule into the form's errors, or returns false when err is something else.
func ruleErrors(err error) (forms.Errors, bool) {
	var rule *request.RuleError
	if !errors.As(err, &rule) {
		return nil, false
	}
	var errs forms.Errors
	errs.Add(rule.Field, rule.Message)
	return errs, true
}

func (a *App) releaseCreate(c *fiber.Ctx) error {
	var f forms.Release
	if err := c.BodyParser(&f); err != nil {
		return fiber.ErrBadRequest
	}
	p := a.releaseFormPage(c, "Add a release", f, nil)
	in, errs := a.releaseInput(&f, false)
	if errs.Any() {
		return a.invalid(c, "releases/new", &p.Page, errs, p)
	}
	v, err := a.viewer(c)
	if err != nil {
		return err
	}
	r, err := release.Create(c.UserContext(), a.db, v, a.actor(c), a.now(), in)
	if errs, ok := ruleErrors(err); ok {
		return a.invalid(c, "releases/new", &p.Page, errs, p)
	}
	if err != nil {
		return err
	}
	a.flash(c, r.Title()+" added")
	return c.Redirect(fmt.Sprintf("/releases/%d", r.ID), fiber.StatusSeeOther)
}

func (a *App) releaseEdit(c *fiber.Ctx) error {
	r, err := a.releaseFromParam(c)
	if err != nil {
		return err
	}
	f := forms.Release{
		Number: strconv.Itoa(r.Number), Name: r.Name, Status: string(r.Status), Version: r.Version,
		TargetDay: strconv.Itoa(r.TargetDate.Day()), TargetMonth: strconv.Itoa(int(r.TargetDate.Month())), TargetYear: strconv.Itoa(r.TargetDate.Year()),
	}
	if r.CapacityDays.Valid {
		f.CapacityDays = release.FormatDays(r.CapacityDays.Float64)
	}
	if r.Released() {
		f.Status = ""
	}
	return a.render(c, fiber.StatusOK, "releases/edit", a.releaseFormPage(c, "Change "+r.Title(), f, r))
}

func (a *App) releaseUpdate(c *fiber.Ctx) error {
	r, err := a.releaseFromParam(c)
	if err != nil {
		return err
	}
	var f forms.Release
	if err := c.BodyParser(&f); err != nil {
		return fiber.ErrBadRequest
	}
	p := a.releaseFormPage(c, "Change "+r.Title(), f, r)
	in, errs := a.releaseInput(&f, r.Released())
	if errs.Any() {
		return a.invalid(c, "releases/edit", &p.Page, errs, p)
	}
	v, err := a.viewer(c)
	if err != nil {
		return err
	}
	saved, err := release.Update(c.UserContext(), a.db, v, a.actor(c), a.now(), r.ID, f.Version, in)
	if errs, ok := ruleErrors(err); ok {
		return a.invalid(c, "releases/edit", &p.Page, errs, p)
	}
	if err != nil {
		return err
	}
	a.flash(c, "Changes to "+saved.Title()+" saved")
	return c.Redirect(fmt.Sprintf("/releases/%d", r.ID), fiber.StatusSeeOther)
}

// releaseConfirmPage asks the central team to confirm that a release has gone live, saying what that
// does: which changes it delivers and how many people it tells.
type releaseConfirmPage struct {
	Page
	Release *release.Release
	Changes []releaseChange // the changes it delivers
	People  int             // how many people it tells
}

func (a *App) releaseReleaseConfirm(c *fiber.Ctx) error {
	r, err := a.releaseFromParam(c)
	if err != nil {
		return err
	}
	if r.Released() {
		return c.Redirect(fmt.Sprintf("/releases/%d", r.ID), fiber.StatusSeeOther)
	}
	ctx := c.UserContext()
	v, err := a.viewer(c)
	if err != nil {
		return err
	}
	_, people, err := release.Told(ctx, a.db, r.ID, v.UserID)
	if err != nil {
		return err
	}
	changes, err := release.Changes(ctx, a.db, v, r.ID)
	if err != nil {
		return err
	}
	p := &releaseConfirmPage{Page: a.page(c, "Mark "+r.Title()+" as released"), Release: r, People: people}
	for _, ch := range changes {
		if ch.Status == request.StatusAllocated {
			p.Changes = append(p.Changes, releaseChange{Change: ch, StatusInfo: ch.Status.Info()})
		}
	}
	return a.render(c, fiber.StatusOK, "releases/confirm", p)
}

func (a *App) releaseRelease(c *fiber.Ctx) error {
	r, err := a.releaseFromParam(c)
	if err != nil {
		return err
	}
	version, err := strconv.Atoi(c.FormValue("version"))
	if err != nil {
		return fiber.ErrBadRequest
	}
	v, err := a.viewer(c)
	if err != nil {
		return err
	}
	delivered, err := release.MarkReleased(c.UserContext(), a.db, a.requestEnv(), v, a.actor(c), r.ID, version)
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("Release %d is live: %d %s delivered", r.Number, len(delivered), plural(len(delivered), "change", "changes"))
	a.flash(c, msg)
	return c.Redirect(fmt.Sprintf("/releases/%d", r.ID), fiber.StatusSeeOther)
}

// requestRelease is the release a request is in, as the request page shows it.
type requestRelease struct {
	ID        int64
	Title     string
	Delivered bool   // the request was delivered in it
	Date      string // its target date
	Released  bool   // it has gone live
	Status    string // its status in words
	Moves     []moveItem
	CanMove   bool
}

// requestReleaseOf returns the release an allocated or delivered request is in, and false for a
// request in no release.
func (a *App) requestReleaseOf(ctx context.Context, v request.Viewer, r *request.Request) (*requestRelease, bool, error) {
	if r.Status != request.StatusAllocated && r.Status != request.StatusDelivered {
		return nil, false, nil
	}
	al, err := release.AllocationOf(ctx, a.db, r.ID)
	if errors.Is(err, problem.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	moves, err := release.RequestMoves(ctx, a.db, r.ID)
	if err != nil {
		return nil, false, err
	}
	out := &requestRelease{ID: al.ReleaseID, Title: al.Title(), Delivered: r.Status == request.StatusDelivered,
		Released: al.Status == release.StatusReleased, Date: al.TargetDate.Format("2 January 2006"), Moves: moveItems(moves),
		CanMove: r.Status == request.StatusAllocated && release.CanManage(v), Status: al.Status.Info().Label}
	return out, true, nil
}

// pageRelease is the release of a request as its page shows it, from what request.GetPage read.
func pageRelease(v request.Viewer, er *request.EnhancementRequest, rl *request.PageRelease) *requestRelease {
	if rl == nil {
		return nil
	}
	moves := make([]release.AllocationMove, 0, len(rl.Moves))
	for _, m := range rl.Moves {
		moves = append(moves, release.AllocationMove{RequestID: er.ID, Reference: er.Reference, Title: er.Title,
			FromNumber: m.FromNumber, ToNumber: m.ToNumber, Reason: m.Reason, MovedBy: m.MovedBy, MovedAt: m.MovedAt})
	}
	return &requestRelease{ID: rl.ID, Title: release.Title(rl.Number, rl.Name), Delivered: er.Status == request.StatusDelivered,
		Released: release.Status(rl.Status) == release.StatusReleased, Date: rl.TargetDate.Format("2 January 2006"), Moves: moveItems(moves),
		CanMove: er.Status == request.StatusAllocated && release.CanManage(v)}
}

type requestMovePage struct {
	Page
	R              *request.EnhancementRequest
	Current        *release.Allocation
	Form           forms.MoveRelease
	ReleaseOptions []Option
}

func (a *App) requestMovePage(c *fiber.Ctx, f forms.MoveRelease) (*requestMovePage, error) {
	ctx := c.UserContext()
	v, err := a.viewer(c)
	if err != nil {
		return nil, err
	}
	er, _, err := request.GetEnhancement(ctx, a.db, v, c.Params("ref"))
	if err != nil {
		return nil, err
	}
	if er.Status != request.StatusAllocated {
		return nil, fmt.Errorf("request %s is %s, so it cannot move: %w", er.Reference, er.Status, problem.ErrConflict)
	}
	current, err := release.AllocationOf(ctx, a.db, er.ID)
	if err != nil {
		return nil, err
	}
	open, err := release.Open(ctx, a.db)
	if err != nil {
		return nil, err
	}
	if f.Version == 0 {
		f.Version = er.Version
	}
	p := &requestMovePage{Page: a.page(c, "Move to another release – "+er.Reference), R: er, Current: current, Form: f,
		ReleaseOptions: []Option{{Value: "", Label: "Choose a release"}}}
	for _, r := range open {
		if r.ID == current.ReleaseID {
			continue
		}
		p.ReleaseOptions = append(p.ReleaseOptions, Option{Value: strconv.FormatInt(r.ID, 10),
			Label: fmt.Sprintf("%s (target %s)", r.Title(), r.TargetDate.Format("2 January 2006"))})
	}
	return p, nil
}

func (a *App) requestMoveShow(c *fiber.Ctx) error {
	p, err := a.requestMovePage(c, forms.MoveRelease{})
	if err != nil {
		return err
	}
	return a.render(c, fiber.StatusOK, "releases/move", p)
}

func (a *App) requestMove(c *fiber.Ctx) error {
	var f forms.MoveRelease
	if err := c.BodyParser(&f); err != nil {
		return fiber.ErrBadRequest
	}
	p, err := a.requestMovePage(c, f)
	if err != nil {
		return err
	}
	if errs := a.validate.Check(&f); errs.Any() {
		return a.invalid(c, "releases/move", &p.Page, errs, p)
	}
	v, err := a.viewer(c)
	if err != nil {
		return err
	}
	to, _ := strconv.ParseInt(f.ReleaseID, 10, 64)
	m, err := release.Move(c.UserContext(), a.db, a.requestEnv(), v, a.actor(c), p.R.Reference,
		release.MoveInput{Version: f.Version, ReleaseID: to, Reason: f.Reason})
	if errs, ok := ruleErrors(err); ok {
		return a.invalid(c, "releases/move", &p.Page, errs, p)
	}
	if errors.Is(err, problem.ErrConflict) {
		return a.requestConflict(c, p.R.Reference, f.Reason)
	}
	if err != nil {
		return err
	}
	a.flash(c, fmt.Sprintf("%s moved to Release %d", m.Reference, m.ToNumber))
	return c.Redirect("/requests/"+url.PathEscape(m.Reference), fiber.StatusSeeOther)
}
