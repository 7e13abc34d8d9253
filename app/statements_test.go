package app

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/audit"
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

func (l *statementLog) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.queries = append(l.queries, e.Query)
}

// take returns the statements issued since the last take and forgets them.
func (l *statementLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	q := l.queries
	l.queries = nil
	return q
}

// TestRequestPageStatementsDoNotGrow opens a request with one comment and one with 50 comments and 50
// timeline events, and wants the same number of SQL statements for both, for each kind of reader.
func TestRequestPageStatementsDoNotGrow(t *testing.T) {
	p := newTestPortal(t)
	ctx := context.Background()
	log := &statementLog{}
	counted, err := New(Deps{Config: p.app.cfg, DB: p.db.DB.WithQueryHook(log), Logger: p.app.log, Migrator: p.app.migrator, Now: p.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	// The same portal and users, on a database handle that logs its statements.
	cp := *p
	cp.app = counted

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

	for _, who := range []*identity.User{central, requester} {
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
		t.Logf("%s: %d statements", who.Name, len(few))
	}
}
