package schedule_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/release"
	"github.com/nhs-esr/portal/app/request"
	"github.com/nhs-esr/portal/app/schedule"
)

// The property: whatever happened, a schedule dated D says what was true at the end of D in London. The
// test makes random histories of releases (created, renamed, re-dated, started, put live; some with the
// start of their history missing) and requests (the lifecycle's statuses, justifications, decisions,
// allocations, moves between releases, deliveries; some with the allocation's timeline event missing
// or no timeline before some day), writes them into the tables the portal writes, builds schedules at
// random dates, and checks every row against a plain replay of the same history in Go.
const (
	propertyHistories = 24
	propertyDates     = 15
)

// A moment in a generated history.
type hEvent struct {
	at     time.Time
	kind   string // the timeline's kind
	status request.Status
}

type hRelease struct {
	id       int64
	number   int
	created  time.Time
	released time.Time // zero while not live
	history  []hReleaseState
}

type hReleaseState struct {
	from   time.Time
	name   string
	target time.Time
	status release.Status
}

type hMove struct {
	at       time.Time
	from, to int
	reason   string
}

type hDecision struct {
	at        time.Time
	outcome   string
	rationale string
	review    time.Time
}

type hRequest struct {
	id            int64
	reference     string
	title         string
	events        []hEvent // status changes, oldest first; only those written to the timeline
	justified     time.Time
	decisions     []hDecision
	allocatedTo   int       // index of the first release; -1 when never allocated
	allocatedAt   time.Time // the allocation's time
	allocateEvent bool      // the "allocate" timeline event was written
	moves         []hMove
	delivered     time.Time
}

type history struct {
	releases []*hRelease
	requests []*hRequest
}

// between is a random instant in [a, b); one in three is within an hour of midnight in London, where
// the end of the publication day matters.
func between(rng *rand.Rand, a, b time.Time) time.Time {
	if !b.After(a) {
		return a
	}
	t := a.Add(time.Duration(rng.Int64N(int64(b.Sub(a)))))
	if rng.IntN(3) == 0 {
		l := t.In(london)
		near := time.Date(l.Year(), l.Month(), l.Day(), 23, 0, 0, 0, london).Add(time.Duration(rng.IntN(120)) * time.Minute)
		if !near.Before(a) && near.Before(b) {
			t = near
		}
	}
	return t
}

var (
	hStart = time.Date(2025, 9, 1, 0, 0, 0, 0, london)
	hEnd   = time.Date(2027, 3, 1, 0, 0, 0, 0, london)
)

// londonDay is the civil date (midnight UTC) of t in London.
func londonDay(t time.Time) time.Time {
	l := t.In(london)
	return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, time.UTC)
}

// generate makes a random history.
func generate(rng *rand.Rand) *history {
	h := &history{}
	nReleases := 3 + rng.IntN(4)
	for i := range nReleases {
		rel := &hRelease{number: 60 + i}
		rel.created = between(rng, hStart, hStart.AddDate(0, 8, 0))
		target := londonDay(between(rng, rel.created.AddDate(0, 2, 0), rel.created.AddDate(0, 14, 0)))
		t := rel.created
		status := release.StatusPlanned
		state := hReleaseState{from: t, name: fmt.Sprintf("Release %d first name", rel.number), target: target, status: status}
		rel.history = append(rel.history, state)
		for k := range rng.IntN(4) {
			t = between(rng, t, t.AddDate(0, 3, 0))
			switch rng.IntN(3) {
			case 0:
				state.name = fmt.Sprintf("Release %d name %d", rel.number, k)
			case 1:
				state.target = state.target.AddDate(0, 0, 7*(rng.IntN(9)-4))
			default:
				state.status = release.StatusInProgress
			}
			state.from = t
			rel.history = append(rel.history, state)
		}
		if rng.IntN(3) > 0 {
			rel.released = between(rng, t, t.AddDate(0, 6, 0))
			state.from, state.status = rel.released, release.StatusReleased
			rel.history = append(rel.history, state)
		}
		// Some releases came before their history was kept: it starts at a later change.
		if rng.IntN(5) == 0 && len(rel.history) > 1 {
			rel.history = rel.history[1+rng.IntN(len(rel.history)-1):]
		}
		h.releases = append(h.releases, rel)
	}
	nRequests := 6 + rng.IntN(8)
	for i := range nRequests {
		r := &hRequest{reference: fmt.Sprintf("ENH-2026-%04d", i+1), title: fmt.Sprintf("Request %d", i+1), allocatedTo: -1, allocateEvent: true}
		t := between(rng, hStart, hStart.AddDate(0, 12, 0))
		step := func(kind string, s request.Status) {
			t = between(rng, t.Add(time.Minute), t.AddDate(0, 0, 40))
			r.events = append(r.events, hEvent{at: t, kind: kind, status: s})
		}
		r.events = append(r.events, hEvent{at: t, kind: "raised", status: request.StatusSubmitted})
		step("acknowledge", request.StatusInTriage)
		if rng.IntN(8) == 0 {
			step("withdraw", request.StatusWithdrawn)
		} else {
			step("classify_enhancement", request.StatusAwaitingRequesterDecision)
			step("progress", request.StatusRequirementsJustification)
			if rng.IntN(4) > 0 {
				r.justified = between(rng, t, t.AddDate(0, 0, 20))
				t = r.justified
				step("submit_for_assessment", request.StatusImpactAssessment)
				h.decide(rng, r, &t, step)
			}
		}
		// Some timelines were not kept from the start: the earliest status changes are missing.
		if rng.IntN(10) == 0 {
			r.events = r.events[1+rng.IntN(len(r.events)):]
		}
		h.requests = append(h.requests, r)
	}
	return h
}

// decide makes the central team's decisions on r, and an approved request's allocation, moves and
// delivery.
func (h *history) decide(rng *rand.Rand, r *hRequest, t *time.Time, step func(string, request.Status)) {
	for round := 0; ; round++ {
		outcome := []string{"approved", "deferred", "not_approved"}[rng.IntN(3)]
		step(outcome, request.Status(outcome))
		d := hDecision{at: *t, outcome: outcome, rationale: fmt.Sprintf("%s rationale %d", r.reference, round)}
		if outcome == "deferred" {
			d.review = londonDay(t.AddDate(0, 2, 0))
		}
		r.decisions = append(r.decisions, d)
		if outcome == "deferred" && round < 2 && rng.IntN(2) == 0 {
			step("review", request.StatusImpactAssessment)
			continue
		}
		if outcome != "approved" || rng.IntN(5) == 0 {
			return
		}
		break
	}
	// Allocate to a release that exists and is not live yet.
	at := between(rng, t.Add(time.Minute), t.AddDate(0, 0, 30))
	open := h.openAt(at, -1)
	if len(open) == 0 {
		return
	}
	current := open[rng.IntN(len(open))]
	r.allocatedTo, r.allocatedAt, r.allocateEvent = current, at, rng.IntN(7) > 0
	if r.allocateEvent {
		r.events = append(r.events, hEvent{at: at, kind: "allocate", status: request.StatusAllocated})
	}
	for range rng.IntN(4) {
		next := between(rng, at.Add(time.Minute), at.AddDate(0, 0, 60))
		if rel := h.releases[current]; !rel.released.IsZero() && !next.Before(rel.released) {
			break
		}
		targets := h.openAt(next, current)
		if len(targets) == 0 {
			break
		}
		to := targets[rng.IntN(len(targets))]
		r.moves = append(r.moves, hMove{at: next, from: current, to: to, reason: fmt.Sprintf("Reason %d for %s", len(r.moves)+1, r.reference)})
		current, at = to, next
	}
	if rel := h.releases[current]; !rel.released.IsZero() {
		r.delivered = rel.released
		r.events = append(r.events, hEvent{at: rel.released, kind: "deliver", status: request.StatusDelivered})
	}
}

// openAt lists the releases that existed and were not live at t, but for one.
func (h *history) openAt(t time.Time, except int) []int {
	var out []int
	for i, rel := range h.releases {
		if i != except && rel.created.Before(t) && (rel.released.IsZero() || rel.released.After(t)) {
			out = append(out, i)
		}
	}
	return out
}

// write puts the history into the tables, as the portal's operations write them, in one round trip.
func (h *history) write(ctx context.Context, tx bun.IDB, orgID, userID int64) error {
	var batch []string
	add := func(q string, args ...any) { batch = append(batch, tx.NewRaw(q, args...).String()) }
	for i, rel := range h.releases {
		rel.id = int64(900000 + i)
		last := rel.history[len(rel.history)-1]
		var released any
		if !rel.released.IsZero() {
			released = rel.released
		}
		add(`INSERT INTO releases (id, number, name, target_date, status, released_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			rel.id, rel.number, last.name, last.target, last.status, released, rel.created, last.from)
		for _, s := range rel.history {
			add(`INSERT INTO release_history (release_id, number, name, target_date, status, valid_from) VALUES (?, ?, ?, ?, ?, ?)`,
				rel.id, rel.number, s.name, s.target, s.status, s.from)
		}
	}
	for i, r := range h.requests {
		r.id = int64(900000 + i)
		status := request.StatusSubmitted
		if len(r.events) > 0 {
			status = r.events[len(r.events)-1].status
		}
		add(`INSERT INTO requests (id, kind, reference, title, status, organisation_id, raised_by_id, received_at, ack_due_on,
				accepted, submission_token, created_at, updated_at)
			VALUES (?, 'enhancement', ?, ?, ?, ?, ?, ?, '2026-01-12', true, ?, now(), now())`,
			r.id, r.reference, r.title, status, orgID, userID, hStart, fmt.Sprintf("00000000-0000-4000-8000-%012d", i+1))
		add(`INSERT INTO enhancement_requests (request_id, sr_number, functional_area, problem, proposal, affected_users, urgency)
			VALUES (?, 'SR1', 'Payroll', 'p', 'c', '{employee}', 'low')`, r.id)
		for _, e := range r.events {
			add(`INSERT INTO request_events (request_id, occurred_at, actor_name, kind, to_status, summary) VALUES (?, ?, 'test', ?, ?, 'test')`,
				r.id, e.at, e.kind, e.status)
		}
		if !r.justified.IsZero() {
			add(`INSERT INTO business_justifications (request_id, submitted_at, first_submitted_at, updated_at) VALUES (?, ?, ?, ?)`,
				r.id, r.justified, r.justified, r.justified)
		}
		for _, d := range r.decisions {
			var review any
			if !d.review.IsZero() {
				review = d.review
			}
			add(`INSERT INTO request_decisions (request_id, outcome, rationale, review_on, decided_by, decided_at) VALUES (?, ?, ?, ?, ?, ?)`,
				r.id, d.outcome, d.rationale, review, userID, d.at)
		}
		if r.allocatedTo >= 0 {
			// The allocation holds the release it is in now and the time it got there, as a move leaves it.
			current, since := r.allocatedTo, r.allocatedAt
			for _, m := range r.moves {
				current, since = m.to, m.at
			}
			add(`INSERT INTO allocations (request_id, release_id, allocated_by, allocated_at) VALUES (?, ?, ?, ?)`,
				r.id, h.releases[current].id, userID, since)
			for _, m := range r.moves {
				add(`INSERT INTO allocation_moves (request_id, from_release_id, to_release_id, reason, moved_by, moved_at) VALUES (?, ?, ?, ?, ?, ?)`,
					r.id, h.releases[m.from].id, h.releases[m.to].id, m.reason, userID, m.at)
			}
		}
	}
	_, err := tx.ExecContext(ctx, strings.Join(batch, ";\n"))
	return err
}

// The replay: what was true at the end of day d, worked out from the history in memory.

func (rel *hRelease) stateAt(cut time.Time) (hReleaseState, bool) {
	var s hReleaseState
	ok := false
	for _, h := range rel.history {
		if h.from.Before(cut) {
			s, ok = h, true
		}
	}
	return s, ok
}

func (r *hRequest) statusAt(cut time.Time) (request.Status, bool) {
	var s request.Status
	ok := false
	for _, e := range r.events {
		if e.at.Before(cut) {
			s, ok = e.status, true
		}
	}
	return s, ok
}

// releaseAt is the index of the release r was in at cut (-1 for none), and whether that is known.
func (r *hRequest) releaseAt(cut time.Time) (int, bool) {
	if r.allocatedTo < 0 {
		return -1, true
	}
	in, known := -1, true
	// The first allocation's time is known from its timeline event, or from the allocation itself when it
	// never moved.
	if _, ok := r.event("allocate"); ok || len(r.moves) == 0 {
		if r.allocatedAt.Before(cut) {
			in = r.allocatedTo
		}
	} else {
		known = false
	}
	for _, m := range r.moves {
		if m.at.Before(cut) {
			in, known = m.to, true
		}
	}
	return in, known
}

// instants are the moments that change a schedule most: releases changing, decisions, allocations,
// moves and deliveries.
func (h *history) instants() []time.Time {
	var out []time.Time
	for _, rel := range h.releases {
		out = append(out, rel.created)
		for _, s := range rel.history {
			out = append(out, s.from)
		}
	}
	for _, r := range h.requests {
		if !r.delivered.IsZero() {
			out = append(out, r.delivered)
		}
		for _, m := range r.moves {
			out = append(out, m.at)
		}
		for _, d := range r.decisions {
			out = append(out, d.at)
		}
		if r.allocatedTo >= 0 {
			out = append(out, r.allocatedAt)
		}
		if !r.justified.IsZero() {
			out = append(out, r.justified)
		}
	}
	return out
}

// numberAt is a release's number: the generated histories never renumber a release.
func (h *history) numberAt(i int, _ time.Time) int { return h.releases[i].number }

// event is the time of r's first timeline event of a kind, if it was kept.
func (r *hRequest) event(kind string) (time.Time, bool) {
	for _, e := range r.events {
		if e.kind == kind {
			return e.at, true
		}
	}
	return time.Time{}, false
}

// expect is the schedule dated d, replayed; since and from are the windows the document gives.
func (h *history) expect(d, since, from time.Time) *schedule.Document {
	cut := schedule.EndOfDay(d)
	when := d.Format("2 January 2006")
	doc := &schedule.Document{}
	gap := func(s string) {
		if !slices.Contains(doc.Gaps, s) {
			doc.Gaps = append(doc.Gaps, s)
		}
	}
	statusLabel := func(r *hRequest) string {
		s, ok := r.statusAt(cut)
		if !ok {
			gap(fmt.Sprintf("The status of %s on %s is not recorded.", r.reference, when))
			return schedule.NotRecorded
		}
		return s.Label()
	}
	change := func(r *hRequest) schedule.Change {
		return schedule.Change{Reference: r.reference, Title: r.title, FunctionalArea: "Payroll", Organisation: "Thameside Royal Hospitals NHS Trust",
			Region: "London", Status: statusLabel(r)}
	}
	// Releases not live at the end of d.
	type listed struct {
		rel   schedule.Release
		index int
		known bool
	}
	var rels []listed
	for i, rel := range h.releases {
		s, ok := rel.stateAt(cut)
		if !rel.created.Before(cut) && !ok {
			continue
		}
		if (!rel.released.IsZero() && rel.released.Before(cut)) || (ok && s.status == release.StatusReleased) {
			continue
		}
		l := listed{index: i, known: ok, rel: schedule.Release{Number: rel.number}}
		if ok {
			l.rel.Name, l.rel.TargetDate, l.rel.Status = s.name, s.target, s.status.Info().Label
		} else {
			l.rel.Status = schedule.NotRecorded
		}
		rels = append(rels, l)
	}
	sort.SliceStable(rels, func(a, b int) bool {
		ra, rb := rels[a], rels[b]
		if ra.known != rb.known {
			return ra.known
		}
		if !ra.rel.TargetDate.Equal(rb.rel.TargetDate) {
			return ra.rel.TargetDate.Before(rb.rel.TargetDate)
		}
		return ra.rel.Number < rb.rel.Number
	})
	// Requests in the order the schedule lists them in a release: by reference.
	byRef := slices.Clone(h.requests)
	slices.SortFunc(byRef, func(a, b *hRequest) int { return compareStrings(a.reference, b.reference) })
	// Gaps come in the order the schedule meets them: allocation and status gaps by release id and
	// reference, then the release gaps.
	type pending struct {
		releaseID int64
		r         *hRequest
		unknown   bool
	}
	var rows []pending
	for _, r := range byRef {
		in, known := r.releaseAt(cut)
		if !known {
			// The schedule meets these last: their release is NULL.
			rows = append(rows, pending{unknown: true, r: r, releaseID: 1 << 62})
			continue
		}
		if in < 0 {
			continue
		}
		for _, l := range rels {
			if l.index == in {
				rows = append(rows, pending{releaseID: h.releases[in].id, r: r})
			}
		}
	}
	slices.SortStableFunc(rows, func(a, b pending) int {
		if a.releaseID != b.releaseID {
			if a.releaseID < b.releaseID {
				return -1
			}
			return 1
		}
		return compareStrings(a.r.reference, b.r.reference)
	})
	changes := map[int64][]schedule.Change{}
	for _, p := range rows {
		if p.unknown {
			if s, ok := p.r.statusAt(cut); ok && s != request.StatusAllocated && s != request.StatusDelivered {
				continue
			}
			gap(fmt.Sprintf("Whether %s was allocated to a release on %s, and to which, is not recorded.", p.r.reference, when))
			continue
		}
		changes[p.releaseID] = append(changes[p.releaseID], change(p.r))
	}
	for _, l := range rels {
		l.rel.Changes = changes[h.releases[l.index].id]
		if !l.known {
			gap(fmt.Sprintf("Release %d existed on %s, but its name, target date and status then are not recorded.", l.rel.Number, when))
		}
		doc.Releases = append(doc.Releases, l.rel)
	}
	// Justifications raised in the window, by the day raised then reference.
	var justified []*hRequest
	for _, r := range byRef {
		if !r.justified.IsZero() {
			day := londonDay(r.justified)
			if !day.Before(from) && !day.After(d) {
				justified = append(justified, r)
			}
		}
	}
	slices.SortStableFunc(justified, func(a, b *hRequest) int { return londonDay(a.justified).Compare(londonDay(b.justified)) })
	for _, r := range justified {
		j := schedule.Justification{Reference: r.reference, Title: r.title, Organisation: "Thameside Royal Hospitals NHS Trust", Region: "London",
			RaisedOn: londonDay(r.justified)}
		var last *hDecision
		for k := range r.decisions {
			if r.decisions[k].at.Before(cut) {
				last = &r.decisions[k]
			}
		}
		s, ok := r.statusAt(cut)
		switch {
		case last != nil:
			j.Outcome = map[string]string{"approved": "Approved", "deferred": "Deferred", "not_approved": "Not approved"}[last.outcome]
			if !last.review.IsZero() {
				j.Outcome += ", to be reviewed on " + last.review.Format("2 January 2006")
			}
			j.DecisionDate, j.Rationale = londonDay(last.at), last.rationale
		case !ok:
			j.Outcome = statusLabel(r)
		case s.Closed():
			j.Outcome = s.Label()
		default:
			j.Outcome = "Not yet decided (" + s.Label() + ")"
		}
		doc.Justifications = append(doc.Justifications, j)
	}
	// Deliveries and moves after since and up to d.
	windowFrom := schedule.EndOfDay(since)
	var delivered []*hRequest
	for _, r := range h.requests {
		// A delivery is known from its timeline event.
		if at, ok := r.event("deliver"); ok && !at.Before(windowFrom) && at.Before(cut) {
			delivered = append(delivered, r)
		}
	}
	current := func(r *hRequest) int {
		in := r.allocatedTo
		for _, m := range r.moves {
			in = m.to
		}
		return in
	}
	slices.SortStableFunc(delivered, func(a, b *hRequest) int {
		if c := a.delivered.Compare(b.delivered); c != 0 {
			return c
		}
		if c := h.numberAt(current(a), cut) - h.numberAt(current(b), cut); c != 0 {
			return c
		}
		return compareStrings(a.reference, b.reference)
	})
	for _, r := range delivered {
		c := change(r)
		c.Release, c.DeliveredOn = fmt.Sprintf("R%d", h.numberAt(current(r), cut)), londonDay(r.delivered)
		doc.Delivered = append(doc.Delivered, c)
	}
	type move struct {
		m hMove
		r *hRequest
	}
	var moves []move
	for _, r := range h.requests {
		for _, m := range r.moves {
			if !m.at.Before(windowFrom) && m.at.Before(cut) {
				moves = append(moves, move{m, r})
			}
		}
	}
	slices.SortStableFunc(moves, func(a, b move) int { return a.m.at.Compare(b.m.at) })
	for _, m := range moves {
		doc.Moves = append(doc.Moves, schedule.Move{Reference: m.r.reference, Title: m.r.title, From: fmt.Sprintf("R%d", h.numberAt(m.m.from, cut)),
			To: fmt.Sprintf("R%d", h.numberAt(m.m.to, cut)), MovedOn: londonDay(m.m.at), Reason: m.m.reason})
	}
	return doc
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

var errRollback = errors.New("roll back the generated history")

func TestScheduleIsTrueAsAtItsDate(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d (%d histories × %d dates)", seed, propertyHistories, propertyDates)
	builds, rows, gaps := 0, 0, 0
	var building time.Duration
	for n := range propertyHistories {
		rng := rand.New(rand.NewPCG(seed, uint64(n)))
		h := generate(rng)
		err := f.db.RunInTx(ctx, &sql.TxOptions{}, func(ctx context.Context, tx bun.Tx) error {
			if err := h.write(ctx, tx, f.orgID, f.userID); err != nil {
				return err
			}
			for range propertyDates {
				d := londonDay(between(rng, hStart, hEnd))
				// Some dates are the very days things happened on, where the end of the day matters.
				// Half are the day something happened or the day before, where the end of the day matters.
				if at := h.instants(); rng.IntN(3) > 0 {
					d = londonDay(at[rng.IntN(len(at))].Add(-time.Duration(rng.IntN(2)) * 90 * time.Minute))
				}
				began := time.Now()
				doc, err := schedule.Build(ctx, tx, schedule.Options{Quarter: schedule.QuarterOf(d), PublicationDate: d})
				building += time.Since(began)
				if err != nil {
					return err
				}
				builds++
				rows += doc.Items()
				gaps += len(doc.Gaps)
				want := h.expect(d, doc.Since, doc.JustificationsFrom)
				checkSame(t, fmt.Sprintf("history %d (seed %d), dated %s", n, seed, d.Format(time.DateOnly)), doc, want)
				if t.Failed() {
					return errRollback
				}
			}
			return errRollback
		})
		if !errors.Is(err, errRollback) {
			t.Fatal(err)
		}
		if t.Failed() {
			return
		}
	}
	t.Logf("%d schedules built in %s, %d rows and %d gaps checked", builds, building.Round(time.Millisecond), rows, gaps)
	if rows == 0 || gaps == 0 {
		t.Errorf("the histories made %d rows and %d gaps: the property was not exercised", rows, gaps)
	}
}

func checkSame(t *testing.T, what string, got, want *schedule.Document) {
	t.Helper()
	norm := func(d *schedule.Document) *schedule.Document {
		out := &schedule.Document{Releases: d.Releases, Justifications: d.Justifications, Delivered: d.Delivered, Moves: d.Moves, Gaps: d.Gaps}
		for i := range out.Releases {
			out.Releases[i].TargetDate = out.Releases[i].TargetDate.UTC()
			if len(out.Releases[i].Changes) == 0 {
				out.Releases[i].Changes = nil
			}
		}
		return out
	}
	g, w := norm(got), norm(want)
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"releases", g.Releases, w.Releases}, {"justifications", g.Justifications, w.Justifications},
		{"delivered", g.Delivered, w.Delivered}, {"moves", g.Moves, w.Moves}, {"gaps", g.Gaps, w.Gaps},
	} {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s: %s\n got  %+v\n want %+v", what, c.name, c.got, c.want)
		}
	}
}
