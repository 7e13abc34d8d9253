package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	netmail "net/mail"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestLocalSenderMarksSent(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	u := f.user("Local Lou")
	f.queue(comment(u, 1), comment(u, 2), comment(u, 3))
	s := f.sender(nil)
	n, err := s.RunOnce(t.Context())
	if err != nil || n != 3 {
		t.Fatalf("RunOnce = %d, %v; want 3", n, err)
	}
	for _, e := range f.outbox() {
		if !e.Sent() || e.Transport != TransportLocal || e.Attempts != 1 || !e.ClaimedUntil.IsZero() || e.LastError != "" {
			t.Errorf("after sending locally: %+v", e)
		}
	}
	if n, err := s.RunOnce(t.Context()); err != nil || n != 0 {
		t.Fatalf("second RunOnce = %d, %v; want nothing left", n, err)
	}
}

func TestSMTPSenderDelivers(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	srv := startSMTP(t)
	u := f.user("Nia Evans")
	f.queue(Message{UserID: u, Event: EventAcknowledged, Title: "ENH-2026-0042 has been acknowledged",
		Body: "The central team has received your request and will classify it within 10 working days.", Link: "/requests/ENH-2026-0042"})
	s := f.sender(srv.config())
	if n, err := s.RunOnce(t.Context()); err != nil || n != 1 {
		t.Fatalf("RunOnce = %d, %v; want 1", n, err)
	}
	mails := srv.received()
	if len(mails) != 1 {
		t.Fatalf("server received %d emails, want 1", len(mails))
	}
	row := f.outbox()[0]
	m := mails[0]
	h := m.Msg.Header
	checks := map[string]bool{
		"envelope to":            len(m.To) == 1 && m.To[0] == "nia.evans@test.nhs.uk",
		"envelope from":          m.From == "no-reply@esr-portal.example",
		"To header":              strings.Contains(h.Get("To"), "nia.evans@test.nhs.uk") && strings.Contains(h.Get("To"), "Nia Evans"),
		"From header":            strings.Contains(h.Get("From"), "no-reply@esr-portal.example"),
		"Subject":                h.Get("Subject") == "ENH-2026-0042 has been acknowledged",
		"Message-ID":             h.Get("Message-Id") == "<"+row.MessageID+">",
		"Auto-Submitted":         h.Get("Auto-Submitted") == "auto-generated",
		"text and HTML":          strings.HasPrefix(h.Get("Content-Type"), "multipart/alternative") && fmt.Sprint(m.Mail.Parts) == "[text/plain text/html]",
		"Reply-To":               replyTo(h) == "no-reply@esr-portal.example",
		"HTML link":              len(m.Mail.HTMLLinks) > 0 && m.Mail.HTMLLinks[0].Href == testBaseURL+"/requests/ENH-2026-0042",
		"greeting":               strings.Contains(m.Body, "Hello Nia Evans,"),
		"body":                   strings.Contains(m.Body, "will classify it within 10 working days."),
		"link":                   strings.Contains(m.Body, testBaseURL+"/requests/ENH-2026-0042"),
		"preferences footer":     strings.Contains(m.Body, testBaseURL+"/account/notifications"),
		"row sent over smtp":     row.Sent() && row.Transport == TransportSMTP && row.SentFrom == DefaultFrom && row.Attempts == 1,
		"body is what Text says": strings.TrimSpace(strings.ReplaceAll(m.Body, "\r\n", "\n")) == strings.TrimSpace(row.Text(testBaseURL)),
	}
	for what, ok := range checks {
		if !ok {
			t.Errorf("%s is wrong; headers %v, body:\n%s", what, h, m.Body)
		}
	}
}

func TestSMTPFailureIsRetriedLater(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	srv := startSMTP(t)
	srv.set(func(s *smtpServer) { s.failNext = 1 })
	u := f.user("Retry Rhys")
	f.queue(comment(u, 1))
	s := f.sender(srv.config())

	n, err := s.RunOnce(t.Context())
	if n != 0 || err == nil {
		t.Fatalf("RunOnce = %d, %v; want a failure", n, err)
	}
	e := f.outbox()[0]
	if e.Sent() || e.Attempts != 1 || !strings.Contains(e.LastError, "Try again later") || !e.ClaimedUntil.IsZero() ||
		!e.NextAttemptAt.Equal(f.clock.Now().Add(firstRetry)) {
		t.Fatalf("after a failure: %+v", e)
	}
	// Not due again yet.
	if n, err := s.RunOnce(t.Context()); n != 0 || err != nil {
		t.Fatalf("RunOnce before the retry is due = %d, %v", n, err)
	}
	f.clock.Advance(firstRetry)
	if n, err := s.RunOnce(t.Context()); n != 1 || err != nil {
		t.Fatalf("retry = %d, %v; want 1", n, err)
	}
	e = f.outbox()[0]
	if !e.Sent() || e.Attempts != 2 || e.LastError != "" {
		t.Fatalf("after the retry: %+v", e)
	}
	if got := len(srv.received()); got != 1 {
		t.Fatalf("server accepted %d emails, want 1", got)
	}
}

func TestSMTPServerUnreachable(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	u := f.user("Nobody Home")
	f.queue(comment(u, 1), comment(u, 2))
	cfg := &SMTPConfig{Host: "127.0.0.1", Port: port, From: DefaultFrom, TLS: TLSNone, Username: "portal", Password: "hunter2-secret"}
	s := f.sender(cfg)
	if n, err := s.RunOnce(t.Context()); n != 0 || err == nil {
		t.Fatalf("RunOnce = %d, %v; want a failure", n, err)
	}
	for _, e := range f.outbox() {
		if e.Sent() || e.Attempts != 1 || !strings.Contains(e.LastError, "connect to SMTP server") || strings.Contains(e.LastError, "hunter2") {
			t.Errorf("after failing to connect: %+v", e)
		}
	}
}

func TestSenderGivesUpAfterMaxAttempts(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	u := f.user("Hopeless Hal")
	f.queue(comment(u, 1))
	if _, err := f.db.NewRaw("UPDATE email_outbox SET attempts = ?", maxAttempts).Exec(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n, err := f.sender(nil).RunOnce(t.Context()); n != 0 || err != nil {
		t.Fatalf("RunOnce = %d, %v; want nothing", n, err)
	}
	if e := f.outbox()[0]; !e.GaveUp() {
		t.Fatalf("not given up: %+v", e)
	}
}

// TestConcurrentSendersSendEachOnce runs two senders, as two portal instances would, on the same
// outbox at the same time: every email reaches the SMTP server exactly once.
func TestConcurrentSendersSendEachOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	srv := startSMTP(t)
	srv.set(func(s *smtpServer) { s.delay = time.Millisecond })
	const emails = 60
	var msgs []Message
	for i := range emails {
		msgs = append(msgs, comment(f.user(fmt.Sprintf("User %d", i)), i))
	}
	f.queue(msgs...)

	senders := []*Sender{f.sender(srv.config()), f.sender(srv.config())}
	sent := make([]int, len(senders))
	var wg sync.WaitGroup
	for i, s := range senders {
		s.batch = 7
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n, err := s.RunOnce(t.Context())
				if err != nil {
					t.Errorf("sender %d: %v", i, err)
					return
				}
				sent[i] += n
				if n == 0 {
					if count(t, f.db, "SELECT count(*) FROM email_outbox WHERE sent_at IS NULL") == 0 {
						return
					}
					time.Sleep(2 * time.Millisecond) // the other sender holds the rest
				}
			}
		}()
	}
	wg.Wait()
	if sent[0]+sent[1] != emails {
		t.Fatalf("senders report %d + %d sent, want %d", sent[0], sent[1], emails)
	}
	t.Logf("sender 0 sent %d, sender 1 sent %d", sent[0], sent[1])
	seen := map[string]int{}
	for _, m := range srv.received() {
		seen[m.Msg.Header.Get("Message-Id")]++
	}
	if len(seen) != emails {
		t.Errorf("server received %d distinct emails, want %d", len(seen), emails)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("email %s received %d times", id, n)
		}
	}
	if n := count(t, f.db, "SELECT count(*) FROM email_outbox WHERE attempts <> 1"); n != 0 {
		t.Errorf("%d emails were attempted more than once", n)
	}
}

// TestExpiredClaimIsTakenAgain: a sender that claimed a batch and stopped (crashed) holds it only until
// its claim runs out; then another sender sends it.
func TestExpiredClaimIsTakenAgain(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	srv := startSMTP(t)
	u := f.user("Stuck Stan")
	f.queue(comment(u, 1), comment(u, 2))
	crashed, other := f.sender(srv.config()), f.sender(srv.config())
	claimed, err := crashed.claim(t.Context(), f.clock.Now())
	if err != nil || len(claimed.emails) != 2 {
		t.Fatalf("claim = %v, %v", claimed, err)
	}
	if n, err := other.RunOnce(t.Context()); n != 0 || err != nil {
		t.Fatalf("another sender took claimed emails: %d, %v", n, err)
	}
	f.clock.Advance(claimLease - time.Second)
	if n, err := other.RunOnce(t.Context()); n != 0 || err != nil {
		t.Fatalf("another sender took emails before the claim ran out: %d, %v", n, err)
	}
	f.clock.Advance(time.Second)
	if n, err := other.RunOnce(t.Context()); n != 2 || err != nil {
		t.Fatalf("after the claim ran out = %d, %v; want 2", n, err)
	}
	for _, e := range f.outbox() {
		if !e.Sent() || e.Attempts != 2 {
			t.Errorf("%+v", e)
		}
	}
	if got := len(srv.received()); got != 2 {
		t.Errorf("server received %d, want 2", got)
	}
}

func TestStoppingSenderHandsBackItsBatch(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	srv := startSMTP(t)
	u := f.user("Stopping Steph")
	f.queue(comment(u, 1), comment(u, 2), comment(u, 3))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	srv.set(func(s *smtpServer) { s.onData = cancel }) // the portal is asked to stop while the first email is being sent
	n, err := f.sender(srv.config()).RunOnce(ctx)
	if n != 1 || err != nil {
		t.Fatalf("RunOnce = %d, %v; want the first sent and the rest handed back", n, err)
	}
	es := f.outbox()
	if !es[0].Sent() {
		t.Errorf("the email the server accepted is not marked sent: %+v", es[0])
	}
	for _, e := range es[1:] {
		if e.Sent() || e.Attempts != 0 || !e.ClaimedUntil.IsZero() || e.LastError != "" {
			t.Errorf("not handed back: %+v", e)
		}
	}
}

func TestRetryDelay(t *testing.T) {
	for attempts, want := range map[int]time.Duration{
		1: time.Minute, 2: 2 * time.Minute, 3: 4 * time.Minute, 9: 256 * time.Minute, 10: 6 * time.Hour, 50: 6 * time.Hour,
	} {
		if got := retryDelay(attempts); got != want {
			t.Errorf("retryDelay(%d) = %v, want %v", attempts, got, want)
		}
	}
}

func TestErrorTextHidesPassword(t *testing.T) {
	s := &Sender{smtp: &SMTPConfig{Password: "s3cret-pass"}}
	got := s.errorText(errors.New("535 authentication failed for user portal with s3cret-pass"))
	if strings.Contains(got, "s3cret-pass") || !strings.Contains(got, "[redacted]") {
		t.Errorf("errorText = %q", got)
	}
	if got := s.errorText(errors.New(strings.Repeat("é", 800))); len(got) > maxErrorText+len("…") {
		t.Errorf("errorText is %d bytes", len(got))
	}
}

func TestSMTPFromEnv(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	cfg, err := SMTPFromEnv(env())
	if err != nil || cfg != nil {
		t.Fatalf("without SMTP_HOST: %+v, %v; want nil (emails kept locally)", cfg, err)
	}
	cfg, err = SMTPFromEnv(env("SMTP_HOST", "smtp.example.nhs.uk"))
	if err != nil || *cfg != (SMTPConfig{Host: "smtp.example.nhs.uk", Port: 587, From: DefaultFrom, ReplyTo: "no-reply@esr-portal.example", TLS: TLSStartTLS}) {
		t.Fatalf("defaults: %+v, %v", cfg, err)
	}
	cfg, err = SMTPFromEnv(env("SMTP_HOST", "smtp.example.nhs.uk", "SMTP_TLS", "TLS", "SMTP_USERNAME", "portal", "SMTP_PASSWORD", "pw with spaces ",
		"SMTP_FROM", "Portal <portal@example.nhs.uk>", "SMTP_REPLY_TO", "do-not-reply@example.nhs.uk"))
	if err != nil || *cfg != (SMTPConfig{Host: "smtp.example.nhs.uk", Port: 465, Username: "portal", Password: "pw with spaces ", From: "Portal <portal@example.nhs.uk>",
		ReplyTo: "do-not-reply@example.nhs.uk", TLS: TLSImplicit}) {
		t.Fatalf("implicit TLS: %+v, %v", cfg, err)
	}
	cfg, err = SMTPFromEnv(env("SMTP_HOST", "localhost", "SMTP_PORT", "2525", "SMTP_TLS", "none"))
	if err != nil || cfg.Port != 2525 || cfg.TLS != TLSNone {
		t.Fatalf("local relay: %+v, %v", cfg, err)
	}
	for name, e := range map[string]func(string) string{
		"port":          env("SMTP_HOST", "h", "SMTP_PORT", "smtp"),
		"port range":    env("SMTP_HOST", "h", "SMTP_PORT", "70000"),
		"tls":           env("SMTP_HOST", "h", "SMTP_TLS", "ssl"),
		"from":          env("SMTP_HOST", "h", "SMTP_FROM", "not an address"),
		"reply-to":      env("SMTP_HOST", "h", "SMTP_REPLY_TO", "nobody"),
		"password only": env("SMTP_HOST", "h", "SMTP_PASSWORD", "hunter2"),
		"host and port": env("SMTP_HOST", "h:25"),
	} {
		if _, err := SMTPFromEnv(e); err == nil {
			t.Errorf("%s: no error", name)
		} else if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: the error shows the password: %v", name, err)
		}
	}
	var logged strings.Builder
	slog.New(slog.NewTextHandler(&logged, nil)).Info("smtp", "smtp", SMTPConfig{Host: "h", Username: "u", Password: "hunter2"})
	if strings.Contains(logged.String(), "hunter2") {
		t.Errorf("a log line shows the password: %s", logged.String())
	}
}

func TestEmailText(t *testing.T) {
	e := OutboxEmail{ToName: "Nia Evans", BodyText: "Something happened.", Link: "/requests/ENH-2026-0042"}
	got := e.Text(testBaseURL + "/")
	for _, want := range []string{"Hello Nia Evans,\n\nSomething happened.\n\n", testBaseURL + "/requests/ENH-2026-0042\n", "\n-- \n", testBaseURL + "/account/notifications\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("text lacks %q:\n%s", want, got)
		}
	}
	if got := (&OutboxEmail{BodyText: "x"}).Text(testBaseURL); strings.Contains(got, "Open it in the portal") || strings.Contains(got, "Hello") {
		t.Errorf("an email without link or name:\n%s", got)
	}
	if got := (&OutboxEmail{Subject: "ENH-2026-0042 has been withdrawn"}).Text(testBaseURL); !strings.HasPrefix(got, "ENH-2026-0042 has been withdrawn\n\n") {
		t.Errorf("an email without a body does not repeat its subject:\n%s", got)
	}
}

// replyTo is the address of an email's Reply-To header.
func replyTo(h netmail.Header) string {
	a, err := netmail.ParseAddress(h.Get("Reply-To"))
	if err != nil {
		return ""
	}
	return a.Address
}
