package app

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/database"
	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/request"
)

// statementLog is a bun query hook that keeps every statement a bun.DB issues.
type statementLog struct {
	mu      sync.Mutex
	queries []string
}

func (l *statementLog) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	return ctx
}

func (l *statementLog) AfterQuery(_ context.Context, e *bun.QueryEvent) { l.add(e.Query) }

// add keeps a statement: one bun ran, or one prepared (database.ObservePrepared).
func (l *statementLog) add(query string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.queries = append(l.queries, query)
}

// counting returns db with the log as its query hook, the statements it prepares logged too.
func (l *statementLog) counting(t testing.TB, db *bun.DB) *bun.DB {
	counted := db.WithQueryHook(l)
	database.ObservePrepared(counted, l.add)
	t.Cleanup(func() { database.ObservePrepared(counted, nil) })
	return counted
}

// take returns the statements issued since the last take and forgets them.
func (l *statementLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	q := l.queries
	l.queries = nil
	return q
}

// counted returns the same portal and users on a database handle that logs its statements, with a
// content cache that keeps nothing, and the log.
func (p *testPortal) counted(t *testing.T) (*testPortal, *statementLog) {
	t.Helper()
	log := &statementLog{}
	app, err := New(Deps{Config: p.app.cfg, DB: log.counting(t, p.db.DB), Logger: p.app.log, Migrator: p.app.migrator, Now: p.clock.Now,
		ContentCacheBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	cp := *p
	cp.app = app
	return &cp, log
}

// maxPageStatements is the most SQL statements the request page may run for anyone: who is visiting;
// the request with its decision, supporters, work and release; its timeline; the impact assessment
// and the NSIG's panel for those who see them.
const maxPageStatements = 6

// TestRequestPageStatementsDoNotGrow opens a request with one comment and one with 50 comments and 50
// timeline events, and wants the same number of SQL statements for both, for each kind of reader.
func TestRequestPageStatementsDoNotGrow(t *testing.T) {
	p := newTestPortal(t)
	ctx := context.Background()
	// The pages are built afresh each time: what a page from the content cache costs is one statement
	// (TestCachedPagesShowEveryChangeAtOnce).
	cp, log := p.counted(t)

	requester, central := p.users[identity.RoleRequester], p.users[identity.RoleCentralTeam]
	raiser, err := request.ViewerFor(ctx, p.db.DB, requester)
	if err != nil {
		t.Fatal(err)
	}
	triager, err := request.ViewerFor(ctx, p.db.DB, central)
	if err != nil {
		t.Fatal(err)
	}
	raise := func(n int) *request.Request {
		t.Helper()
		r, err := request.RaiseEnhancement(ctx, p.db.DB, p.app.calendar, raiser, audit.Actor{Name: "test"}, p.clock.Now(), request.NewEnhancement{
			SRNumber: "SR1234567", Title: fmt.Sprintf("Remind managers about DBS renewal dates %d", n), FunctionalArea: "Self Service",
			Problem: "Managers forget.", Proposal: "Remind them.", AffectedUsers: []string{"manager"}, Urgency: "medium",
			SubmissionToken: fmt.Sprintf("00000000-0000-4000-9000-%012d", n),
		})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	comment := func(r *request.Request, i int) {
		t.Helper()
		err := request.AddComment(ctx, p.db.DB, triager, audit.Actor{UserID: central.ID, Name: central.Name}, p.clock.Now(), r.Reference,
			fmt.Sprintf("Comment number %d", i), i%3 == 0)
		if err != nil {
			t.Fatal(err)
		}
	}

	one := raise(1)
	comment(one, 1)
	many := raise(2)
	var events []request.Event
	for i := 1; i <= 50; i++ {
		comment(many, i)
		if i > 1 { // raising it recorded the first
			events = append(events, request.Event{RequestID: many.ID, OccurredAt: p.clock.Now(), ActorName: "Central team",
				Kind: "note", Summary: fmt.Sprintf("Event number %d", i)})
		}
	}
	if _, err := p.db.DB.NewInsert().Model(&events).Exec(ctx); err != nil {
		t.Fatal(err)
	}

	// Both requests are accepted for the Self Service NSIG, which the NSIG member reviews, and in impact
	// assessment, so that the NSIG gives its views and the central team reads the assessment; the one
	// with many comments has the support of every other organisation and every region's view too.
	member := p.users[identity.RoleNSIGMember]
	if _, err := p.db.DB.NewRaw(`INSERT INTO user_nsigs (user_id, nsig_id, granted_at) SELECT ?, id, ? FROM nsigs WHERE name = 'Self Service and Portal'`,
		member.ID, p.clock.Now()).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		`UPDATE requests SET accepted, status = 'impact_assessment', nsig_id = (SELECT id FROM nsigs WHERE name = 'Self Service and Portal') WHERE id IN (?0, ?1)`,
		`INSERT INTO request_supports (request_id, organisation_id, user_id, created_at)
			SELECT ?1, o.id, ?2, now() FROM organisations AS o WHERE o.id <> (SELECT organisation_id FROM requests WHERE id = ?1)`,
		`INSERT INTO regional_views (request_id, nsig_id, region_id, view, comment, position, recorded_by, recorded_at)
			SELECT ?1, r.nsig_id, rg.id, 'support', 'We agree', 'member', ?3, now() FROM regions AS rg, requests AS r WHERE r.id = ?1`,
	} {
		if _, err := p.db.DB.NewRaw(strings.Replace(stmt, "SET accepted,", "SET accepted = true,", 1), one.ID, many.ID, requester.ID, member.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}

	for _, who := range []*identity.User{central, requester, member} {
		b := cp.as(who)
		statements := func(r *request.Request) []string {
			t.Helper()
			log.take()
			res := b.get("/requests/" + r.Reference)
			mustStatus(t, res, 200, who.Name+" opens "+r.Reference)
			if r == many && !strings.Contains(res.body, "Comment number 50") {
				t.Fatalf("%s: the page of %s does not show its 50th comment", who.Name, r.Reference)
			}
			return log.take()
		}
		statements(one) // a first visit may do what later ones need not
		few, lots := statements(one), statements(many)
		if len(few) != len(lots) {
			t.Errorf("%s: the request page ran %d statements for 1 comment and %d for 50 comments and 50 events\n1 comment:\n%s\n\n50 comments:\n%s",
				who.Name, len(few), len(lots), strings.Join(few, "\n"), strings.Join(lots, "\n"))
		}
		if len(few) > maxPageStatements {
			t.Errorf("%s: the request page ran %d statements, at most %d wanted:\n%s", who.Name, len(few), maxPageStatements, strings.Join(few, "\n"))
		}
		t.Logf("%s: %d statements", who.Name, len(few))
	}
}

// maxSaveStatements is the most SQL statements saving a section of the business justification may
// run: who is visiting; BEGIN; the request, read and locked, and its justification; the change and its
// timeline event; following the request and reading its readers; the notifications; the audit event
// (the lock, the head of the trail and the row in one); COMMIT.
const maxSaveStatements = 10

// TestJustificationSaveStatements saves a section of a justification on a request with followers and
// wants no more than maxSaveStatements statements, the page built for nothing.
func TestJustificationSaveStatements(t *testing.T) {
	p := newTestPortal(t)
	ctx := context.Background()
	cp, log := p.counted(t)

	r := raiseTestRequest(t, p, p.users[identity.RoleRequester], "Remind managers about DBS renewal dates")
	if _, err := p.db.DB.NewRaw(`UPDATE requests SET accepted = true, status = ? WHERE id = ?`, request.StatusRequirementsJustification, r.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	b := cp.as(p.users[identity.RoleDevelopmentTeam])
	base := "/requests/" + r.Reference + "/justification"
	for i, organisations := range []string{"220", "230"} {
		answers := justificationAnswers()["benefits"]
		answers.Set("organisations", organisations)
		page := b.get(base + "/benefits")
		mustStatus(t, page, 200, "the benefits section")
		answers.Set("version", formVersion(t, page.body))
		token := csrfField.FindStringSubmatch(page.body)
		if token == nil {
			t.Fatal("no form token on the benefits section")
		}
		answers.Set("_csrf", token[1])
		log.take()
		mustStatus(t, b.do("POST", base+"/benefits", answers), 303, "saving the benefits")
		saved := log.take()
		if i == 0 {
			continue // a first save may do what later ones need not (the session's first use)
		}
		if len(saved) > maxSaveStatements {
			t.Errorf("saving a section ran %d statements, at most %d wanted:\n%s", len(saved), maxSaveStatements, strings.Join(saved, "\n"))
		}
		if n := len(saved); n < 5 {
			t.Errorf("saving a section ran %d statements: the log missed some:\n%s", n, strings.Join(saved, "\n"))
		}
	}
}
