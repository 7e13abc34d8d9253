package notify

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestDigestOncePerDay: two instances run the day's digest at the same time, and again later: each
// digest user gets one email listing their waiting notifications, once.
func TestDigestOncePerDay(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	daily := f.user("Daily Dora")
	f.setPrefs(daily, true)
	dailyToo := f.user("Daily Dan")
	f.setPrefs(dailyToo, true, Preference{Event: EventComment, InApp: false, Email: true})
	straight := f.user("Straight Away Sid")
	leaver := f.user("Leaving Lee")
	f.setPrefs(leaver, true)

	f.queue(comment(daily, 1), comment(straight, 1), comment(leaver, 1))
	f.clock.Advance(time.Hour)
	f.queue(comment(daily, 2), comment(dailyToo, 1),
		Message{UserID: daily, Event: EventDecisionNeeded, Title: "ENH-2026-0007 needs your decision", Link: "/requests/ENH-2026-0007"})
	f.disable(leaver)
	if n := len(f.outbox()); n != 1 {
		t.Fatalf("%d emails before the digest, want only Sid's", n)
	}

	day := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	f.clock.Advance(22 * time.Hour)
	instances := []*Sender{f.sender(nil), f.sender(nil)}
	results := make([]int, len(instances))
	var wg sync.WaitGroup
	for i, s := range instances {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := s.RunDigest(ctx, day)
			if err != nil {
				t.Errorf("instance %d: %v", i, err)
			}
			results[i] = n
		}()
	}
	wg.Wait()
	if results[0]+results[1] != 2 || (results[0] != 0 && results[1] != 0) {
		t.Fatalf("instances wrote %v digests; want 2 by one of them", results)
	}
	if n, err := instances[0].RunDigest(ctx, day); n != 0 || err != nil {
		t.Fatalf("the same day again = %d, %v; want nothing", n, err)
	}

	dora := f.outboxTo(daily)
	if len(dora) != 1 {
		t.Fatalf("Dora has %d digest emails", len(dora))
	}
	d := dora[0]
	if d.Subject != "Your daily summary: 3 updates from the ESR Enhancement Portal" || d.Link != "/notifications" {
		t.Errorf("digest email %+v", d)
	}
	first, second, third := strings.Index(d.BodyText, "New comment 1"), strings.Index(d.BodyText, "New comment 2"), strings.Index(d.BodyText, "needs your decision")
	if first < 0 || second < first || third < second {
		t.Errorf("digest does not list the three oldest first:\n%s", d.BodyText)
	}
	for _, want := range []string{testBaseURL + "/requests/ENH-2026-0042\n", testBaseURL + "/requests/ENH-2026-0007\n", "21 November 2026 at 9:00am", "21 November 2026 at 10:00am"} {
		if !strings.Contains(d.BodyText, want) {
			t.Errorf("digest lacks %q:\n%s", want, d.BodyText)
		}
	}
	if dan := f.outboxTo(dailyToo); len(dan) != 1 || dan[0].Subject != "Your daily summary: 1 update from the ESR Enhancement Portal" {
		t.Errorf("Dan's digest: %+v", dan)
	}
	if lee := f.outboxTo(leaver); len(lee) != 0 {
		t.Errorf("a disabled user got a digest: %+v", lee)
	}
	if sid := f.outboxTo(straight); len(sid) != 1 {
		t.Errorf("Sid has %d emails, want his one straight-away email", len(sid))
	}
	if n := count(t, f.db, "SELECT count(*) FROM notifications WHERE digest_pending"); n != 0 {
		t.Errorf("%d notifications still wait for a digest", n)
	}
	for _, n := range append(f.notifications(daily), f.notifications(dailyToo)...) {
		if !n.Emailed {
			t.Errorf("digested notification not marked emailed: %+v", n)
		}
	}
	if ns := f.notifications(leaver); len(ns) != 1 || ns[0].Emailed {
		t.Errorf("disabled user's notification: %+v", ns)
	}

	// The next day lists only what came since.
	f.queue(comment(daily, 3))
	if n, err := instances[1].RunDigest(ctx, day.AddDate(0, 0, 1)); n != 1 || err != nil {
		t.Fatalf("next day = %d, %v; want 1", n, err)
	}
	dora = f.outboxTo(daily)
	if len(dora) != 2 || !strings.Contains(dora[1].BodyText, "New comment 3") || strings.Contains(dora[1].BodyText, "New comment 1") {
		t.Fatalf("next day's digest: %+v", dora)
	}
	// A day with nothing waiting writes nothing.
	if n, err := instances[1].RunDigest(ctx, day.AddDate(0, 0, 2)); n != 0 || err != nil {
		t.Fatalf("a quiet day = %d, %v", n, err)
	}
}

func TestDigestListsAtMostMaxItems(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	u := f.user("Busy Bea")
	f.setPrefs(u, true)
	var msgs []Message
	for i := range maxDigestItems + 5 {
		msgs = append(msgs, comment(u, i))
	}
	f.queue(msgs...)
	if n, err := f.sender(nil).RunDigest(t.Context(), f.clock.Now()); n != 1 || err != nil {
		t.Fatalf("RunDigest = %d, %v", n, err)
	}
	body := f.outboxTo(u)[0].BodyText
	if strings.Count(body, "New comment") != maxDigestItems || !strings.Contains(body, "And 5 more.") {
		t.Errorf("digest lists %d items:\n%s", strings.Count(body, "New comment"), body)
	}
}

// TestRunSendsAndDigests runs the sender's loop as the portal does: it sends what is queued, and once
// the morning has come, the day's digest.
func TestRunSendsAndDigests(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	srv := startSMTP(t)
	straight := f.user("Straight Away Sid")
	daily := f.user("Daily Dora")
	f.setPrefs(daily, true)
	f.clock.Advance(-3 * time.Hour) // 06:00 in London: before the digest hour
	f.queue(comment(straight, 1), comment(daily, 1))
	s := f.sender(srv.config())
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Run(ctx, 5*time.Millisecond)
	}()
	defer func() {
		cancel()
		<-done
	}()
	waitFor(t, "the straight-away email", func() bool { return len(srv.received()) == 1 })
	time.Sleep(50 * time.Millisecond)
	if n := len(f.outboxTo(daily)); n != 0 {
		t.Fatalf("a digest went out before %d:00", digestHour)
	}
	f.clock.Advance(2 * time.Hour) // 08:00
	waitFor(t, "the digest email", func() bool { return len(srv.received()) == 2 })
	got := srv.received()[1]
	if got.To[0] != "daily.dora@test.nhs.uk" || !strings.HasPrefix(got.Msg.Header.Get("Subject"), "Your daily summary") ||
		!strings.Contains(got.Body, testBaseURL+"/notifications") {
		t.Fatalf("digest email to %v: %s\n%s", got.To, got.Msg.Header.Get("Subject"), got.Body)
	}
	if n := count(t, f.db, "SELECT count(*) FROM job_runs WHERE name = 'email_digest' AND period = '2026-11-21'"); n != 1 {
		t.Fatalf("%d digest runs recorded for the day", n)
	}
}
