package actionlink_test

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/nhs-esr/portal/app/actionlink"
	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/database/dbtest"
	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/organisation"
	"github.com/nhs-esr/portal/app/request"
	"github.com/nhs-esr/portal/app/seed"
	"github.com/nhs-esr/portal/app/workday"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

// TestUse checks each way a link is refused, and that of many clicks at once exactly one gets through.
func TestUse(t *testing.T) {
	ctx := context.Background()
	d := dbtest.New(t)
	now := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	if err := seed.Organisations(ctx, d.DB, now); err != nil {
		t.Fatal(err)
	}
	org, err := organisation.GetByODS(ctx, d.DB, "ZLN01")
	if err != nil {
		t.Fatal(err)
	}
	var users []*identity.User
	for _, email := range []string{"owner@test.nhs.uk", "other@test.nhs.uk"} {
		u, err := identity.Create(ctx, d.DB, audit.Actor{Name: "test"}, now, identity.NewUser{
			Email: email, Name: email, OrganisationID: org.ID, Roles: []string{identity.RoleRequester}, Password: "correct horse battery staple"})
		if err != nil {
			t.Fatal(err)
		}
		users = append(users, u)
	}
	owner, other := users[0], users[1]
	v, err := request.ViewerFor(ctx, d.DB, owner)
	if err != nil {
		t.Fatal(err)
	}
	r, err := request.RaiseEnhancement(ctx, d.DB, workday.New(), v, audit.Actor{Name: "test"}, now, request.NewEnhancement{
		SRNumber: "SR1234567", Title: "A request to decide on", FunctionalArea: "Payroll", Problem: "p", Proposal: "c",
		AffectedUsers: []string{"employee"}, Urgency: "low", SubmissionToken: "00000000-0000-4000-9000-000000000001"})
	if err != nil {
		t.Fatal(err)
	}
	path := "/requests/" + r.Reference
	create := func(at time.Time) string {
		t.Helper()
		token, err := actionlink.Create(ctx, d.DB, owner.ID, r.ID, path, at, actionlink.TTL)
		if err != nil {
			t.Fatal(err)
		}
		return token
	}
	refused := func(err error, reason, reference string) {
		t.Helper()
		var re *actionlink.RefusedError
		if !errors.As(err, &re) || re.Reason != reason || re.Reference != reference {
			t.Errorf("%v, want refused as %s for %q", err, reason, reference)
		}
	}

	token := create(now)
	_, err = actionlink.Use(ctx, d.DB, audit.Actor{Name: "test"}, token, other.ID, now)
	refused(err, actionlink.ReasonOtherUser, "")
	got, err := actionlink.Use(ctx, d.DB, audit.Actor{Name: "test"}, token, owner.ID, now.Add(time.Hour))
	if err != nil || got != path {
		t.Fatalf("use: %q, %v", got, err)
	}
	_, err = actionlink.Use(ctx, d.DB, audit.Actor{Name: "test"}, token, owner.ID, now.Add(2*time.Hour))
	refused(err, actionlink.ReasonUsed, r.Reference)

	expiring := create(now)
	_, err = actionlink.Use(ctx, d.DB, audit.Actor{Name: "test"}, expiring, owner.ID, now.Add(actionlink.TTL))
	refused(err, actionlink.ReasonExpired, r.Reference)
	_, err = actionlink.Use(ctx, d.DB, audit.Actor{Name: "test"}, "no-such-token", owner.ID, now)
	refused(err, actionlink.ReasonUnknown, "")

	raced := create(now)
	var wg sync.WaitGroup
	var mu sync.Mutex
	passed := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := actionlink.Use(ctx, d.DB, audit.Actor{Name: "test"}, raced, owner.ID, now); err == nil {
				mu.Lock()
				passed++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if passed != 1 {
		t.Errorf("%d of 8 clicks at once got through, want 1", passed)
	}
	// Each use, and only a use, is audited: the first link and the raced one.
	events, n, err := audit.List(ctx, d.DB, audit.Filter{Action: "action_link.used", EntityID: r.Reference})
	if err != nil || n != 2 || events[0].ActorName != "test" {
		t.Errorf("action_link.used events: %d (%v), want 2", n, err)
	}
}
