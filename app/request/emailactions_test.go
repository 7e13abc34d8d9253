package request_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/nhs-esr/portal/app/actionlink"
	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/problem"
	"github.com/nhs-esr/portal/app/request"
)

// offersTo reads the actions the latest email to a user offers, as names.
func (w *world) offersTo(who string) []string {
	w.t.Helper()
	var names []string
	err := w.db.NewRaw(`SELECT a->>'name' FROM email_outbox AS e, jsonb_array_elements(e.actions) AS a
		WHERE e.id = (SELECT max(id) FROM email_outbox WHERE user_id = ?)`, w.v[who].UserID).Scan(context.Background(), &names)
	if err != nil {
		w.t.Fatal(err)
	}
	return names
}

// TestEndorsersAreAsked: a submitted justification asks the raising region's FAM to endorse it (an
// email offering the action), and not the FAM of another region nor the raising organisation; once
// they have endorsed, the offer is no longer theirs to take.
func TestEndorsersAreAsked(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	r := w.raise("Endorse me")
	for _, step := range []struct{ who, action string }{{"central", "acknowledge"}, {"central", "classify_enhancement"}, {"raiser", "progress"}} {
		if _, err := w.apply(step.who, r, step.action, request.Input{}); err != nil {
			t.Fatal(err)
		}
	}
	version := 0
	for _, sec := range request.JustificationSections {
		j, _, err := w.saveSection("raiser", r, version, sec.Key, fullJustification())
		if err != nil {
			t.Fatalf("section %s: %v", sec.Key, err)
		}
		version = j.Version
	}
	if _, err := w.submitJustification("raiser", r, version); err != nil {
		t.Fatal(err)
	}
	if got := w.offersTo("fam_region"); len(got) != 1 || got[0] != request.ActionEndorse {
		t.Errorf("the region's FAM is offered %v", got)
	}
	var asked []string
	if err := w.db.NewRaw(`SELECT u.email FROM email_outbox AS e JOIN users AS u ON u.id = e.user_id
		WHERE e.subject LIKE '%ready for your endorsement' ORDER BY u.email`).Scan(ctx, &asked); err != nil {
		t.Fatal(err)
	}
	if len(asked) != 1 || asked[0] != "fam_region@test.nhs.uk" {
		t.Errorf("asked to endorse: %v, want the London FAM only", asked)
	}
	full, _, err := request.GetEnhancement(ctx, w.db, w.v["central"], r.Reference)
	if err != nil {
		t.Fatal(err)
	}
	for who, want := range map[string]error{"fam_region": nil, "fam_elsewhere": problem.ErrNotFound, "raiser": problem.ErrForbidden, "central": problem.ErrForbidden} {
		err := request.CheckAction(ctx, w.db, w.v[who], &full.Request, request.ActionEndorse, version)
		if (want == nil) != (err == nil) || (want != nil && !errors.Is(err, want)) {
			t.Errorf("%s may endorse: %v, want %v", who, err, want)
		}
	}
	var conflict *request.JustificationConflict
	if err := request.CheckAction(ctx, w.db, w.v["fam_region"], &full.Request, request.ActionEndorse, version-1); !errors.As(err, &conflict) {
		t.Errorf("endorsing an older version: %v, want a justification conflict", err)
	}
	if err := request.Endorse(ctx, w.db, w.v["fam_region"], audit.Actor{Name: "fam"}, w.now, r.Reference,
		request.EndorsementInput{Comment: "Yes", RegionID: w.v["fam_region"].RegionID, Version: version - 1}); !errors.As(err, &conflict) {
		t.Errorf("an endorsement of an older version: %v, want a justification conflict", err)
	}
	if err := request.Endorse(ctx, w.db, w.v["fam_region"], audit.Actor{Name: "fam"}, w.now, r.Reference,
		request.EndorsementInput{Comment: "Yes", RegionID: w.v["fam_region"].RegionID, Version: version}); err != nil {
		t.Fatal(err)
	}
	if err := request.CheckAction(ctx, w.db, w.v["fam_region"], &full.Request, request.ActionEndorse, version); !errors.Is(err, problem.ErrConflict) {
		t.Errorf("endorsing again: %v, want a conflict", err)
	}
}

// TestTakeLinkActionOnce: many confirmations of one link at once take its action exactly once; the
// others find the link used. A link of another user, or one that opens a page, takes nothing.
func TestTakeLinkActionOnce(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	r := w.raise("Click it twice")
	token, err := actionlink.CreateAction(ctx, w.db, w.v["central"].UserID, r.ID, "acknowledge", 1, w.now, actionlink.TTL)
	if err != nil {
		t.Fatal(err)
	}
	env := request.Env{Now: w.now, Calendar: w.cal}
	if _, err := request.TakeLinkAction(ctx, w.db, env, w.v["developer"], audit.Actor{Name: "dev"}, token, request.LinkInput{}); !isRefused(err, actionlink.ReasonOtherUser) {
		t.Errorf("another user's confirmation: %v", err)
	}
	page, err := actionlink.Create(ctx, w.db, w.v["central"].UserID, r.ID, "/requests/"+r.Reference, w.now, actionlink.TTL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := request.TakeLinkAction(ctx, w.db, env, w.v["central"], audit.Actor{Name: "central"}, page, request.LinkInput{}); !isRefused(err, actionlink.ReasonUnknown) {
		t.Errorf("a page link confirmed: %v", err)
	}
	const clicks = 8
	var wg sync.WaitGroup
	errs := make([]error, clicks)
	for i := range clicks {
		wg.Go(func() {
			_, errs[i] = request.TakeLinkAction(ctx, w.db, env, w.v["central"], audit.Actor{Name: "central"}, token, request.LinkInput{})
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !isRefused(err, actionlink.ReasonUsed):
			t.Errorf("a second confirmation: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d confirmations took the action, want 1", ok)
	}
	var events int
	if err := w.db.NewRaw(`SELECT count(*) FROM request_events WHERE request_id = ? AND kind = 'acknowledge'`, r.ID).Scan(ctx, &events); err != nil || events != 1 {
		t.Errorf("%d acknowledgements, %v", events, err)
	}
	// A confirmation that the action refuses leaves the link unused.
	r2 := w.raise("Rule broken")
	if _, err := w.apply("central", r2, "acknowledge", request.Input{}); err != nil {
		t.Fatal(err)
	}
	ask, err := actionlink.CreateAction(ctx, w.db, w.v["central"].UserID, r2.ID, "request_information", 2, w.now, actionlink.TTL)
	if err != nil {
		t.Fatal(err)
	}
	var rule *request.RuleError
	if _, err := request.TakeLinkAction(ctx, w.db, env, w.v["central"], audit.Actor{Name: "central"}, ask, request.LinkInput{}); !errors.As(err, &rule) {
		t.Fatalf("a question without words: %v", err)
	}
	if _, err := request.TakeLinkAction(ctx, w.db, env, w.v["central"], audit.Actor{Name: "central"}, ask,
		request.LinkInput{Input: request.Input{Text: "Which staff groups?", Version: 99}}); err != nil {
		t.Fatalf("the question asked after the rule was broken: %v", err)
	}
}

func isRefused(err error, reason string) bool {
	var re *actionlink.RefusedError
	return errors.As(err, &re) && re.Reason == reason
}
