package request_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/problem"
	"github.com/nhs-esr/portal/app/request"
)

func fullDraft() request.EnhancementDraft {
	return request.EnhancementDraft{
		SRNumber: "SR-7654321", Title: "Offer OLM waiting-list places automatically", FunctionalArea: "Learning Management (OLM)",
		Problem: "Places freed by cancellations\nstay empty.", Proposal: "Offer them to the waiting list.",
		AffectedUsers: []string{"employee", "professional_user"}, AffectedDetail: "Learners and training administrators",
		Urgency: "high", UrgencyReason: "Statutory training targets",
	}
}

func TestDraftKeepsAnswersForItsOwnerOnly(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	owner, other := w.v["raiser"].UserID, w.v["other_org"].UserID
	actor := audit.Actor{UserID: owner, Name: "Test raiser"}

	id, err := request.NewDraft(ctx, w.db, actor, owner, request.KindEnhancement, w.now)
	if err != nil {
		t.Fatal(err)
	}
	d, err := request.GetDraft(ctx, w.db, owner, id)
	if err != nil {
		t.Fatal(err)
	}
	if d.ID != id || d.UserID != owner || d.Kind != request.KindEnhancement || !reflect.DeepEqual(d.Data, request.EnhancementDraft{}) {
		t.Fatalf("new draft %+v", d)
	}

	later := w.now.Add(10 * time.Minute)
	want := fullDraft()
	if err := request.SaveDraft(ctx, w.db, actor, owner, id, want, later); err != nil {
		t.Fatal(err)
	}
	d, err = request.GetDraft(ctx, w.db, owner, id)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(d.Data, want) {
		t.Errorf("saved answers read back as %+v, want %+v", d.Data, want)
	}
	if !d.UpdatedAt.Equal(later) || !d.CreatedAt.Equal(w.now) {
		t.Errorf("created %s, updated %s", d.CreatedAt, d.UpdatedAt)
	}

	// Another user can neither read, change nor delete it: to them it does not exist.
	if _, err := request.GetDraft(ctx, w.db, other, id); !errors.Is(err, problem.ErrNotFound) {
		t.Errorf("another user reading the draft: %v, want not found", err)
	}
	if err := request.SaveDraft(ctx, w.db, actor, other, id, request.EnhancementDraft{Title: "Hijacked"}, later); !errors.Is(err, problem.ErrNotFound) {
		t.Errorf("another user saving the draft: %v, want not found", err)
	}
	// Raising with the draft's id as the submission token deletes only its owner's draft.
	in := want.NewEnhancement(id)
	if _, err := request.RaiseEnhancement(ctx, w.db, w.cal, w.v["other_org"], audit.Actor{UserID: other, Name: "Other"}, later, in); err != nil {
		t.Fatal(err)
	}
	if d, err := request.GetDraft(ctx, w.db, owner, id); err != nil || d.Data.Title != want.Title {
		t.Fatalf("after another user's attempts the draft is %+v, %v", d, err)
	}

	// Ids that are not UUIDs name no draft; they are not database errors.
	for _, bad := range []string{"", "42", "not-a-uuid", id + "0"} {
		if _, err := request.GetDraft(ctx, w.db, owner, bad); !errors.Is(err, problem.ErrNotFound) {
			t.Errorf("GetDraft(%q): %v, want not found", bad, err)
		}
		if err := request.SaveDraft(ctx, w.db, actor, owner, bad, want, later); !errors.Is(err, problem.ErrNotFound) {
			t.Errorf("SaveDraft(%q): %v, want not found", bad, err)
		}
		if _, err := request.RaisedFromDraft(ctx, w.db, owner, bad); !errors.Is(err, problem.ErrNotFound) {
			t.Errorf("RaisedFromDraft(%q): %v, want not found", bad, err)
		}
	}
	if _, err := request.GetDraft(ctx, w.db, owner, "00000000-0000-4000-8000-000000000000"); !errors.Is(err, problem.ErrNotFound) {
		t.Errorf("a draft that does not exist: %v, want not found", err)
	}

	// Starting and saving the draft are audited, naming the questions answered but not the answers
	// (the draft is its author's alone); the refused save recorded nothing.
	rows, n, err := audit.List(ctx, w.db, audit.Filter{Action: "draft.", EntityID: id})
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 || rows[1].Action != "draft.created" || rows[0].Action != "draft.saved" || rows[0].ActorUserID != owner {
		t.Fatalf("audit events of the draft: %d, %+v; want draft.created then one draft.saved by its owner", n, rows)
	}
	saved := string(rows[0].After)
	for _, q := range []string{"title", "problem", "proposal", "affected_users", "urgency_reason"} {
		if !strings.Contains(saved, `"`+q+`"`) {
			t.Errorf("draft.saved %s does not name the answered question %s", saved, q)
		}
	}
	if strings.Contains(saved, "cancellations") || strings.Contains(saved, "OLM") || strings.Contains(saved, "Hijacked") {
		t.Errorf("draft.saved holds answers: %s", saved)
	}
}

func TestDraftRaisesOneRequest(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	raiser := w.v["raiser"]
	actor := audit.Actor{UserID: raiser.UserID, Name: raiser.Name}
	id, err := request.NewDraft(ctx, w.db, actor, raiser.UserID, request.KindEnhancement, w.now)
	if err != nil {
		t.Fatal(err)
	}
	if err := request.SaveDraft(ctx, w.db, actor, raiser.UserID, id, fullDraft(), w.now); err != nil {
		t.Fatal(err)
	}
	if _, err := request.RaisedFromDraft(ctx, w.db, raiser.UserID, id); !errors.Is(err, problem.ErrNotFound) {
		t.Fatalf("before raising, RaisedFromDraft: %v, want not found", err)
	}
	d, err := request.GetDraft(ctx, w.db, raiser.UserID, id)
	if err != nil {
		t.Fatal(err)
	}
	in := d.Data.NewEnhancement(d.ID)
	if in.SubmissionToken != id || in.Title != fullDraft().Title || !reflect.DeepEqual(in.AffectedUsers, fullDraft().AffectedUsers) {
		t.Fatalf("the draft makes %+v", in)
	}
	r, err := request.RaiseEnhancement(ctx, w.db, w.cal, raiser, audit.Actor{Name: "test"}, w.now, in)
	if err != nil {
		t.Fatal(err)
	}
	// Raising deleted the draft in the same transaction, and its audit event says so.
	if _, err := request.GetDraft(ctx, w.db, raiser.UserID, id); !errors.Is(err, problem.ErrNotFound) {
		t.Errorf("the raised draft is still there: %v", err)
	}
	raised, _, err := audit.List(ctx, w.db, audit.Filter{Action: "request.raised", EntityID: r.Reference})
	if err != nil || len(raised) != 1 {
		t.Fatalf("request.raised events %+v, %v; want one", raised, err)
	}
	var after struct {
		DraftID string `json:"draft_id"`
	}
	if err := json.Unmarshal(raised[0].After, &after); err != nil || after.DraftID != id {
		t.Errorf("request.raised says %s (%v); want it to name the draft %s it came from", raised[0].After, err, id)
	}

	// Once the draft is gone, what it raised is still found from its id, by its owner only.
	got, err := request.RaisedFromDraft(ctx, w.db, raiser.UserID, id)
	if err != nil || got.Reference != r.Reference {
		t.Fatalf("RaisedFromDraft: %+v, %v; want %s", got, err, r.Reference)
	}
	if _, err := request.RaisedFromDraft(ctx, w.db, w.v["other_org"].UserID, id); !errors.Is(err, problem.ErrNotFound) {
		t.Errorf("another user finding the request raised from the draft: %v, want not found", err)
	}

	// The same answers sent again with the same token raise nothing new.
	again, err := request.RaiseEnhancement(ctx, w.db, w.cal, raiser, audit.Actor{Name: "test"}, w.now, in)
	if err != nil || again.Reference != r.Reference {
		t.Fatalf("raising the draft again: %+v, %v; want %s", again, err, r.Reference)
	}
	var n int
	if err := w.db.NewSelect().Table("requests").ColumnExpr("count(*)").Scan(ctx, &n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("%d requests from one draft", n)
	}
	er, _, err := request.GetEnhancement(ctx, w.db, raiser, r.Reference)
	if err != nil {
		t.Fatal(err)
	}
	if er.SRNumber != "SR-7654321" || er.FunctionalArea != "Learning Management (OLM)" || er.UrgencyReason != "Statutory training targets" ||
		er.Problem != "Places freed by cancellations\nstay empty." {
		t.Errorf("raised request holds %+v", er.Enhancement)
	}
}
