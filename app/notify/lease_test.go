package notify

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nhs-esr/portal/app/database"
)

// TestDeadSendersEmailsGoWithinAMinute: a sender claims a batch and dies without sending, renewing or
// handing it back. Another instance, looking every PollEvery as Run does and at the worst moment, sends
// the batch within a minute, and not while the claim could still be live.
func TestDeadSendersEmailsGoWithinAMinute(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	srv := startSMTP(t)
	u := f.user("Crash Carys")
	f.queue(comment(u, 1), comment(u, 2), comment(u, 3))
	dead, live := f.sender(srv.config()), f.sender(srv.config())
	died := f.clock.Now()
	if cl, err := dead.claim(t.Context(), died); err != nil || len(cl.emails) != 3 {
		t.Fatalf("claim = %v, %v", cl, err)
	}
	// The other instance's first look comes just under one interval after the claim, so each later look
	// falls just before a multiple of PollEvery: the longest a claim that runs out at one can wait.
	f.clock.Advance(PollEvery - time.Millisecond)
	var sentAt time.Time
	for f.clock.Now().Sub(died) < 3*time.Minute {
		n, err := live.RunOnce(t.Context())
		if err != nil {
			t.Fatalf("RunOnce: %v", err)
		}
		if n > 0 {
			if n != 3 {
				t.Fatalf("sent %d of the dead sender's 3 emails at once", n)
			}
			sentAt = f.clock.Now()
			break
		}
		f.clock.Advance(PollEvery)
	}
	delay := sentAt.Sub(died)
	switch {
	case sentAt.IsZero():
		t.Fatal("the dead sender's emails were never sent")
	case delay > time.Minute:
		t.Errorf("the dead sender's emails went %s after it claimed them, more than a minute", delay)
	case delay < claimLease:
		t.Errorf("the dead sender's emails were taken %s after the claim, before it ran out", delay)
	}
	if got := len(srv.received()); got != 3 {
		t.Errorf("server received %d emails, want 3", got)
	}
	t.Logf("claim of %s, looks every %s: a dead sender's emails went %s after it claimed them", claimLease, PollEvery, delay)
}

// TestLiveSenderKeepsItsClaim: a sender whose batch takes longer than its claim lasts renews the claim,
// so another sender looking all the while never takes (and sends again) an email of that batch.
func TestLiveSenderKeepsItsClaim(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	srv := startSMTP(t)
	srv.set(func(s *smtpServer) { s.delay = 150 * time.Millisecond })
	const emails = 10
	for i := range emails {
		f.queue(comment(f.user(fmt.Sprintf("Slow Sian %d", i)), i))
	}
	newSender := func() *Sender {
		s := NewSender(f.db, srv.config(), testBaseURL, nil, nil)
		s.lease, s.renew, s.batch = time.Second, 100*time.Millisecond, emails
		return s
	}
	slow, other := newSender(), newSender()

	type result struct {
		n    int
		err  error
		took time.Duration
	}
	done := make(chan result, 1)
	go func() {
		began := time.Now()
		n, err := slow.RunOnce(t.Context())
		done <- result{n, err, time.Since(began)}
	}()
	waitFor(t, "the slow sender's claim", func() bool {
		return count(t, f.db, "SELECT count(*) FROM email_outbox WHERE claim_token IS NOT NULL") == emails
	})
	// The other sender looks every 50 ms while the slow one sends.
	var otherSent int
	var res result
	for looking := true; looking; {
		select {
		case res = <-done:
			looking = false
		case <-time.After(50 * time.Millisecond):
			n, err := other.RunOnce(t.Context())
			if err != nil {
				t.Errorf("other sender: %v", err)
			}
			otherSent += n
		}
	}
	n, err, took := res.n, res.err, res.took
	if err != nil || n+otherSent != emails {
		t.Fatalf("slow sender sent %d (%v), the other %d; want %d in all", n, err, otherSent, emails)
	}
	if took <= time.Second {
		t.Fatalf("the batch took %s, no longer than the claim lasts: the test proves nothing", took)
	}
	if otherSent != 0 {
		t.Errorf("the other sender took %d emails of a batch that was still being sent", otherSent)
	}
	seen := map[string]int{}
	for _, m := range srv.received() {
		seen[m.Msg.Header.Get("Message-Id")]++
	}
	for id, c := range seen {
		if c != 1 {
			t.Errorf("%s received %d times", id, c)
		}
	}
	if len(seen) != emails {
		t.Errorf("%d distinct emails received, want %d", len(seen), emails)
	}
	t.Logf("a batch of %d took %s against a claim of %s renewed every %s; the other sender took %d", emails, took.Round(time.Millisecond), slow.lease, slow.renew, otherSent)
}

// The sender in another process that TestKilledSendersLoseNoEmail kills: shorter claims than in
// production, so that the test takes seconds rather than minutes.
const (
	senderHelperEnv   = "PORTAL_SENDER_HELPER" // "<database URL> <SMTP port>"
	senderHelperLease = 600 * time.Millisecond
	senderHelperPoll  = 100 * time.Millisecond
)

func TestSenderHelperProcess(t *testing.T) {
	spec := os.Getenv(senderHelperEnv)
	if spec == "" {
		return
	}
	url, portText, _ := strings.Cut(spec, " ")
	port, err := strconv.Atoi(portText)
	if err != nil {
		fmt.Printf("error %v\n", err)
		os.Exit(1)
	}
	db, err := database.Open(context.Background(), url)
	if err != nil {
		fmt.Printf("error %v\n", err)
		os.Exit(1)
	}
	s := NewSender(db, &SMTPConfig{Host: "127.0.0.1", Port: port, From: DefaultFrom, TLS: TLSNone}, testBaseURL, nil, nil)
	s.lease, s.renew, s.batch = senderHelperLease, senderHelperLease/4, 5
	fmt.Println("ready")
	for {
		s.drain(context.Background())
		time.Sleep(senderHelperPoll)
	}
}

// TestKilledSendersLoseNoEmail kills sender processes with SIGKILL while they send, as a crash would.
// Every email is delivered; the emails a killed sender held go out within its claim and one look of
// the next sender; an email is delivered twice only when the SMTP server accepted it in the instant
// before a kill, so there are no more duplicates than kills.
func TestKilledSendersLoseNoEmail(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	srv := startSMTP(t)
	srv.set(func(s *smtpServer) { s.delay = 10 * time.Millisecond })
	var msgs []Message
	for i := range 200 {
		msgs = append(msgs, comment(f.user(fmt.Sprintf("Reader %d", i)), i))
	}
	f.queue(msgs...)

	start := func() *exec.Cmd {
		t.Helper()
		cmd := exec.Command(os.Args[0], "-test.run=^TestSenderHelperProcess$")
		cmd.Env = append(os.Environ(), senderHelperEnv+"="+f.url+" "+strconv.Itoa(srv.port))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatalf("start a sender: %v", err)
		}
		if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "ready\n" {
			_ = cmd.Process.Kill()
			t.Fatalf("the sender said %q (%v)", line, err)
		}
		return cmd
	}
	kill := func(cmd *exec.Cmd) time.Time {
		t.Helper()
		if err := cmd.Process.Kill(); err != nil {
			t.Fatalf("kill a sender: %v", err)
		}
		_ = cmd.Wait() // killed
		return time.Now()
	}

	// Each killed sender may leave emails it had claimed; they must go within its claim and a look. One
	// sender runs at a time, so an email it held that was accepted between its start and the end of its
	// claim was sent by it.
	// The same email can be held by more than one killed sender in turn.
	type claimHeld struct{ startedAt, killedAt, until time.Time }
	held := map[int64][]claimHeld{} // email id → each killed sender that held it: its life, and when its claim ran out
	const kills = 5
	for range kills {
		startedAt := time.Now()
		cmd := start()
		time.Sleep(time.Duration(200+rand.IntN(500)) * time.Millisecond)
		killedAt := kill(cmd)
		var stranded []OutboxEmail
		if err := f.db.NewSelect().Model(&stranded).Where("sent_at IS NULL AND claim_token IS NOT NULL AND claimed_until > now()").
			Scan(t.Context()); err != nil {
			t.Fatal(err)
		}
		for _, e := range stranded {
			held[e.ID] = append(held[e.ID], claimHeld{startedAt, killedAt, e.ClaimedUntil})
		}
	}
	survivor := start()
	deadline := time.Now().Add(30 * time.Second)
	for count(t, f.db, "SELECT count(*) FROM email_outbox WHERE sent_at IS NULL") > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d emails still unsent 30 s after the last kill", count(t, f.db, "SELECT count(*) FROM email_outbox WHERE sent_at IS NULL"))
		}
		time.Sleep(50 * time.Millisecond)
	}
	kill(survivor)

	accepted := map[string][]time.Time{}
	for _, m := range srv.received() {
		id := strings.Trim(m.Msg.Header.Get("Message-Id"), "<>")
		accepted[id] = append(accepted[id], m.At)
	}
	var rows []OutboxEmail
	if err := f.db.NewSelect().Model(&rows).Scan(t.Context()); err != nil {
		t.Fatal(err)
	}
	// landed counts the kills that fell between the server accepting an email and the sender marking it
	// sent: the email was still held by the killed sender, and the server accepted it after that sender
	// started and before its claim ran out (the server may finish a message the sender wrote just before
	// it died), which only that sender can have sent.
	duplicates, landed := 0, 0
	var worst time.Duration
	for _, e := range rows {
		times := accepted[e.MessageID]
		if len(times) == 0 {
			t.Errorf("email %d was never delivered", e.ID)
			continue
		}
		duplicates += len(times) - 1
		holds := held[e.ID]
		used := make([]bool, len(times)) // each acceptance is put down to one killed sender at most
		for _, h := range holds {
			for i, at := range times {
				if !used[i] && !at.Before(h.startedAt) && at.Before(h.until) {
					used[i] = true
					landed++
					break
				}
			}
		}
		if len(holds) > 0 {
			last := holds[len(holds)-1]
			for _, at := range times {
				if at.After(last.killedAt) {
					worst = max(worst, at.Sub(last.killedAt))
					break
				}
			}
		}
	}
	if duplicates > landed || landed > kills {
		t.Errorf("%d duplicates, %d kills between an acceptance and its mark, %d kills: want duplicates ≤ those kills ≤ kills", duplicates, landed, kills)
	}
	bound := senderHelperLease + senderHelperPoll + time.Second // the claim, a look, and a slow machine
	if worst > bound {
		t.Errorf("an email held by a killed sender went %s after the kill, more than %s", worst, bound)
	}
	t.Logf("%d emails, %d kills: all delivered; %d held by killed senders, the last of them delivered %s after its kill (claim %s, a look every %s); %d kills between an acceptance and its mark; %d duplicates",
		len(rows), kills, len(held), worst.Round(time.Millisecond), senderHelperLease, senderHelperPoll, landed, duplicates)
}
