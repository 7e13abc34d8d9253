package request_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/problem"
	"github.com/nhs-esr/portal/app/request"
)

// inRequirements raises a request and takes it to requirements and justification, as the central
// team and the raiser would.
func (w *world) inRequirements(title string) *request.Request {
	w.t.Helper()
	r := w.raise(title)
	for _, s := range []struct{ who, action string }{{"central", "acknowledge"}, {"central", "classify_enhancement"}, {"raiser", "progress"}} {
		if _, err := w.apply(s.who, r, s.action, request.Input{}); err != nil {
			w.t.Fatalf("%s: %v", s.action, err)
		}
	}
	return r
}

func (w *world) saveRequirement(who string, r *request.Request, base int, body string) (*request.RequirementVersion, error) {
	w.t.Helper()
	return request.SaveRequirement(context.Background(), w.db, w.v[who], audit.Actor{Name: who}, w.now, r.Reference, base, body)
}

func (w *world) agree(who string, r *request.Request, version int) (string, bool, error) {
	w.t.Helper()
	return request.AgreeRequirement(context.Background(), w.db, w.v[who], audit.Actor{Name: who}, w.now, r.Reference, version)
}

func (w *world) countRows(query string, args ...any) int {
	w.t.Helper()
	var n int
	if err := w.db.NewRaw(query, args...).Scan(context.Background(), &n); err != nil {
		w.t.Fatal(err)
	}
	return n
}

func TestRequirementVersionsAndAgreement(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	r := w.inRequirements("Expiry reminders")

	v1, err := w.saveRequirement("raiser", r, 0, "  Remind employees 90 days before expiry.\r\nAnd at 30 days.  ")
	if err != nil {
		t.Fatal(err)
	}
	if v1.Version != 1 || v1.Body != "Remind employees 90 days before expiry.\nAnd at 30 days." {
		t.Fatalf("first version %d %q", v1.Version, v1.Body)
	}
	v2, err := w.saveRequirement("developer", r, 1, "Remind employees 90, 60 and 30 days before expiry.\nAnd at 30 days.")
	if err != nil || v2.Version != 2 {
		t.Fatalf("second version: %+v %v", v2, err)
	}
	// The same text again writes nothing.
	same, err := w.saveRequirement("raiser", r, 2, v2.Body+"\n")
	if err != nil || same.Version != 2 {
		t.Fatalf("unchanged save: %+v %v", same, err)
	}

	q, err := request.GetRequirement(ctx, w.db, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(q.Versions) != 2 || q.Versions[0].AuthorName != "Test raiser" || q.Versions[1].AuthorName != "Test developer" {
		t.Fatalf("versions %+v", q.Versions)
	}

	side, both, err := w.agree("raiser", r, 2)
	if err != nil || side != request.SideRequester || both {
		t.Fatalf("raiser agrees: %s %v %v", side, both, err)
	}
	if ok, _ := request.RequirementAgreed(ctx, w.db, r.ID); ok {
		t.Fatal("agreed after one side")
	}
	// Agreeing again changes nothing and adds no event.
	events := w.countRows("SELECT count(*) FROM request_events WHERE request_id = ? AND kind = 'requirement_agreed'", r.ID)
	if _, _, err := w.agree("raiser", r, 2); err != nil {
		t.Fatal(err)
	}
	if got := w.countRows("SELECT count(*) FROM request_events WHERE request_id = ? AND kind = 'requirement_agreed'", r.ID); got != events {
		t.Errorf("agreeing twice added an event")
	}
	side, both, err = w.agree("developer", r, 2)
	if err != nil || side != request.SideDevelopment || !both {
		t.Fatalf("developer agrees: %s %v %v", side, both, err)
	}
	if ok, err := request.RequirementAgreed(ctx, w.db, r.ID); !ok || err != nil {
		t.Fatalf("not agreed after both sides: %v", err)
	}

	// An edit after agreement clears it: the agreements stay, naming version 2.
	if _, err := w.saveRequirement("raiser", r, 2, "Remind employees and their managers."); err != nil {
		t.Fatal(err)
	}
	if ok, _ := request.RequirementAgreed(ctx, w.db, r.ID); ok {
		t.Fatal("still agreed after a new version")
	}
	q, err = request.GetRequirement(ctx, w.db, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if q.AgreedBy(request.SideRequester) || q.Agreement(request.SideRequester).Version != 2 || q.Latest() != 3 {
		t.Errorf("after the edit: latest %d, requester agreement %+v", q.Latest(), q.Agreement(request.SideRequester))
	}
	var summary string
	if err := w.db.NewSelect().Table("request_events").Column("summary").Where("request_id = ? AND kind = 'requirement_saved'", r.ID).
		Order("id DESC").Limit(1).Scan(ctx, &summary); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(summary, "both sides now need to agree") {
		t.Errorf("the timeline does not say the agreement was cleared: %q", summary)
	}

	// Timeline, audit and notifications for each save and agreement.
	if got := w.countRows("SELECT count(*) FROM request_events WHERE request_id = ? AND kind IN ('requirement_saved', 'requirement_agreed')", r.ID); got != 5 {
		t.Errorf("%d timeline events, want 5 (3 saves, 2 agreements)", got)
	}
	if got := w.countRows("SELECT count(*) FROM audit_events WHERE entity_id = ? AND action LIKE 'requirement.%'", r.Reference); got != 5 {
		t.Errorf("%d audit events, want 5", got)
	}
	// The raiser follows the request: told of the developer's save and agreement, not of their own.
	if got := w.countRows("SELECT count(*) FROM notifications WHERE user_id = ? AND event = 'requirements'", w.v["raiser"].UserID); got != 2 {
		t.Errorf("the raiser was told %d times, want 2", got)
	}
	// The developer follows once they have saved: told of the raiser's agreement and last save.
	if got := w.countRows("SELECT count(*) FROM notifications WHERE user_id = ? AND event = 'requirements'", w.v["developer"].UserID); got != 2 {
		t.Errorf("the developer was told %d times, want 2", got)
	}
}

func TestRequirementOptimisticLocking(t *testing.T) {
	w := newWorld(t)
	r := w.inRequirements("Two authors at once")
	if _, err := w.saveRequirement("raiser", r, 0, "The raiser's words"); err != nil {
		t.Fatal(err)
	}
	_, err := w.saveRequirement("developer", r, 0, "The developer's words")
	var conflict *request.RequirementConflict
	if !errors.As(err, &conflict) || !errors.Is(err, problem.ErrConflict) {
		t.Fatalf("a save from version 0 after version 1: %v", err)
	}
	if conflict.Current.Body != "The raiser's words" || conflict.Current.AuthorName != "Test raiser" || conflict.Typed != "The developer's words" {
		t.Errorf("conflict holds %+v", conflict)
	}
	if _, _, err := w.agree("developer", r, 0); !errors.As(err, &conflict) {
		t.Errorf("agreeing a version that is not the latest: %v", err)
	}
	if got := w.countRows("SELECT count(*) FROM requirement_versions WHERE request_id = ?", r.ID); got != 1 {
		t.Errorf("%d versions after the conflict, want 1", got)
	}
}

func TestRequirementWhoMayWriteAndWhen(t *testing.T) {
	w := newWorld(t)
	r := w.inRequirements("Who writes me")
	if _, _, err := w.agree("raiser", r, 1); !isRule(err) {
		t.Errorf("agreeing before anything is written: %v", err)
	}
	for who, want := range map[string]error{
		"other_org":     problem.ErrNotFound,  // sees the summary only
		"fam_elsewhere": problem.ErrNotFound,  // sees the summary only
		"admin":         problem.ErrNotFound,  // sees the summary only
		"fam_region":    problem.ErrForbidden, // helps with the justification, not the requirement
		"central":       problem.ErrForbidden,
		"nsig_member":   problem.ErrForbidden, // reviews it, another organisation
	} {
		if _, err := w.saveRequirement(who, r, 0, "Words"); !errors.Is(err, want) {
			t.Errorf("%s saves: %v, want %v", who, err, want)
		}
		if _, _, err := w.agree(who, r, 1); !errors.Is(err, want) {
			t.Errorf("%s agrees: %v, want %v", who, err, want)
		}
	}
	if _, err := w.saveRequirement("raiser", r, 0, "   "); !isRule(err) {
		t.Errorf("empty text: %v", err)
	}
	if _, err := w.saveRequirement("raiser", r, 0, strings.Repeat("x", request.MaxRequirementLength+1)); !isRule(err) {
		t.Errorf("too long: %v", err)
	}
	// Read-only outside requirements and justification.
	early := w.raise("Not yet taken forward")
	if _, err := w.saveRequirement("raiser", early, 0, "Words"); !isRule(err) {
		t.Errorf("a save in triage: %v", err)
	}
}

func isRule(err error) bool {
	var rule *request.RuleError
	return errors.As(err, &rule)
}

func TestDiff(t *testing.T) {
	cases := []struct{ a, b, want string }{
		{"", "", ""},
		{"one", "one", "=one"},
		{"", "one\ntwo", "+one +two"},
		{"one\ntwo", "", "-one -two"},
		{"one\ntwo\nthree", "one\n2\nthree", "=one -two +2 =three"},
		{"a\nb\nc\nd", "a\nc\nd\ne", "=a -b =c =d +e"},
		{"x\ny", "y\nx", "-x =y +x"},
	}
	for _, c := range cases {
		var got []string
		for _, l := range request.Diff(c.a, c.b) {
			got = append(got, map[string]string{"same": "=", "added": "+", "removed": "-"}[l.Op]+l.Text)
		}
		if s := strings.Join(got, " "); s != c.want {
			t.Errorf("Diff(%q, %q) = %s, want %s", c.a, c.b, s, c.want)
		}
	}
	// A comparison too large to work out line by line still shows every line.
	var a, b strings.Builder
	for i := range 3000 {
		fmt.Fprintf(&a, "a%d\n", i)
		fmt.Fprintf(&b, "b%d\n", i)
	}
	if got := len(request.Diff(a.String(), b.String())); got != 6001 {
		t.Errorf("large diff has %d lines, want 6001", got)
	}
}

// TestWordDiff: a line changed by a few words shows those words removed and added, not the whole
// line struck through and written again.
func TestWordDiff(t *testing.T) {
	show := func(lines []request.DiffLine) string {
		var b strings.Builder
		for _, l := range lines {
			if l.Op != "changed" {
				b.WriteString(map[string]string{"same": "=", "added": "+", "removed": "-"}[l.Op] + l.Text + "\n")
				continue
			}
			b.WriteString("~")
			for _, w := range l.Words {
				switch w.Op {
				case "added":
					b.WriteString("{+" + w.Text + "+}")
				case "removed":
					b.WriteString("[-" + w.Text + "-]")
				default:
					b.WriteString(w.Text)
				}
			}
			b.WriteString("\n")
		}
		return b.String()
	}
	cases := []struct{ a, b, want string }{
		{"Remind managers 30 days before a competence expires.", "Remind managers and staff 60 days before a competence expires.",
			"~Remind managers [-30-]{+and staff 60+} days before a competence expires.\n"},
		{"Title\nSend an email to the learner.\nEnd", "Title\nSend a text message to the learner.\nEnd",
			"=Title\n~Send [-an email-]{+a text message+} to the learner.\n=End\n"},
		// Nothing in common: removed and added whole.
		{"alpha beta", "gamma delta", "-alpha beta\n+gamma delta\n"},
		// A line added among unchanged ones stays an added line.
		{"one\ntwo", "one\nnew\ntwo", "=one\n+new\n=two\n"},
		// Two lines replaced by one: the first pair is compared word by word, the second removed.
		{"keep this line\ndrop me entirely", "keep that line", "~keep [-this-]{+that+} line\n-drop me entirely\n"},
	}
	for _, c := range cases {
		if got := show(request.WordDiff(c.a, c.b)); got != c.want {
			t.Errorf("WordDiff(%q, %q) =\n%s\nwant\n%s", c.a, c.b, got, c.want)
		}
	}
}
