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

// TestActionEmailLevels: an email that offers actions carries them, as one-time links made as it is
// sent, only to an address on the secure list; the outbox keeps no token (only each link's hash is
// stored, in action_links) and records the level each email went out at. Any other address gets the
// summary email, which says why it has no links. Both parts say the same, with the same links.
func TestActionEmailLevels(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	srv := startSMTP(t)
	secure, err := ParseSecureDomains("test.nhs.uk")
	if err != nil {
		t.Fatal(err)
	}
	onList := f.user("Cara Central")
	var offList int64
	if err := f.db.NewRaw("INSERT INTO users (email, name, organisation_id, password_hash) VALUES ('colin@trust.example', 'Colin Elsewhere', ?, 'x') RETURNING id", f.org).
		Scan(t.Context(), &offList); err != nil {
		t.Fatal(err)
	}
	req := f.request(onList, "ENH-2026-0042")
	acts := []Action{{Name: "approve", Label: "Approve ENH-2026-0042", Version: 4}, {Name: "not_approve", Label: "Do not approve ENH-2026-0042", Version: 4}}
	for _, u := range []int64{onList, offList} {
		f.queue(Message{UserID: u, Event: EventDecisionNeeded, RequestID: req, Title: "ENH-2026-0042: ready for a decision",
			Body: "Payslip tweaks <b>&</b> more", Link: "/requests/ENH-2026-0042", Actions: acts})
	}
	s := f.sender(srv.config()).OfferActions(secure, 48*time.Hour)
	if n, err := s.RunOnce(t.Context()); err != nil || n != 2 {
		t.Fatalf("RunOnce = %d, %v", n, err)
	}
	byTo := map[string]*received{}
	for _, m := range srv.received() {
		byTo[m.To[0]] = &m
	}
	action, summary := byTo["cara.central@test.nhs.uk"], byTo["colin@trust.example"]
	if action == nil || summary == nil {
		t.Fatalf("received %v", srv.received())
	}
	var tokens []string
	for _, a := range action.Mail.HTMLLinks {
		if strings.Contains(a.Href, "/links/") {
			tokens = append(tokens, strings.TrimPrefix(a.Href, testBaseURL+"/links/"))
			if !strings.Contains(action.Mail.Text, a.Text+":\n"+a.Href+"\n") {
				t.Errorf("the text part lacks %q %s", a.Text, a.Href)
			}
		}
	}
	if len(tokens) != 2 || tokens[0] == tokens[1] || len(tokens[0]) < 40 {
		t.Fatalf("action links %v in %v", tokens, action.Mail.HTMLLinks)
	}
	for _, want := range []string{">Approve ENH-2026-0042</a>", ">Do not approve ENH-2026-0042</a>", "What you can do from this email",
		"Nothing changes until you confirm it there", "stop working on 23 November 2026 at 9:00am", "Payslip tweaks &lt;b&gt;&amp;&lt;/b&gt; more"} {
		if !strings.Contains(action.Mail.HTML, want) {
			t.Errorf("the action email's HTML lacks %q", want)
		}
	}
	if strings.Contains(action.Mail.HTML, "<b>&</b>") {
		t.Error("the message's words are HTML in the HTML part")
	}
	if strings.Contains(summary.Mail.Raw, "/links/") || !strings.Contains(summary.Body, "not on the portal's list of secure email domains") ||
		!strings.Contains(summary.Mail.HTML, "not on the portal&#39;s list of secure email domains") {
		t.Errorf("the summary email:\n%s", summary.Body)
	}
	var links []struct {
		UserID  int64     `bun:"user_id"`
		Action  string    `bun:"action"`
		Version int       `bun:"version"`
		Expires time.Time `bun:"expires_at"`
		Hash    []byte    `bun:"token_hash"`
	}
	if err := f.db.NewRaw("SELECT user_id, action, version, expires_at, token_hash FROM action_links ORDER BY action").Scan(t.Context(), &links); err != nil {
		t.Fatal(err)
	}
	if len(links) != 2 || links[0].UserID != onList || links[0].Action != "approve" || links[1].Action != "not_approve" || links[0].Version != 4 ||
		!links[0].Expires.Equal(f.clock.Now().Add(48*time.Hour)) {
		t.Errorf("links stored: %+v", links)
	}
	for _, e := range f.outbox() {
		raw := fmt.Sprintf("%+v", e)
		for _, tok := range tokens {
			if strings.Contains(raw, tok) {
				t.Errorf("the outbox keeps a token: %s", raw)
			}
		}
		want := LevelSummary
		if e.UserID == onList {
			want = LevelAction
		}
		if e.Level != want {
			t.Errorf("email to %s went out at level %q, want %q", e.ToAddress, e.Level, want)
		}
	}

	// Without SMTP the emails are kept for the mail view, each with the level it would have gone out at,
	// and no link is made: nobody receives them.
	for _, u := range []int64{onList, offList} {
		f.queue(Message{UserID: u, Event: EventDecisionNeeded, RequestID: req, Title: "Again", Link: "/requests/ENH-2026-0042", Actions: acts})
	}
	if n, err := f.sender(nil).OfferActions(secure, 0).RunOnce(t.Context()); err != nil || n != 2 {
		t.Fatalf("kept locally: %d, %v", n, err)
	}
	if n := count(t, f.db, "SELECT count(*) FROM action_links"); n != 2 {
		t.Errorf("%d links after keeping emails locally, want the 2 sent over SMTP", n)
	}
	if n := count(t, f.db, "SELECT count(*) FROM email_outbox WHERE subject = 'Again' AND email_level = CASE WHEN user_id = ? THEN 'action' ELSE 'summary' END", onList); n != 2 {
		t.Errorf("%d emails kept locally with their level, want 2", n)
	}
}

// TestEmailTemplates: the HTML part is a whole document in English with a title, layout tables
// marked as presentation, inline styles only and no images or scripts; its links are the text part's;
// a line that is only a web address becomes a link; what a message says is escaped.
func TestEmailTemplates(t *testing.T) {
	e := Email{ToName: "Nia <Evans>", Subject: "A & B", Body: "First line\nsecond line\n\nhttps://esr-portal.example.nhs.uk/requests/ENH-2026-0001\n\n<script>alert(1)</script>",
		Actions: []Link{{Text: "Approve ENH-2026-0001", URL: "https://esr-portal.example.nhs.uk/links/abc"}}, ActionsNote: "Once only.",
		Links:       []Link{{Text: "Open ENH-2026-0001 in the portal", URL: "https://esr-portal.example.nhs.uk/requests/ENH-2026-0001"}},
		Reply:       &Link{Text: "To comment, open it", URL: "https://esr-portal.example.nhs.uk/requests/ENH-2026-0001"},
		SettingsURL: "https://esr-portal.example.nhs.uk/account/notifications"}
	text, html, err := e.Render()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Hello Nia <Evans>,\n\nFirst line\nsecond line\n\n", "Approve ENH-2026-0001:\nhttps://esr-portal.example.nhs.uk/links/abc\n",
		"Once only.", "Open ENH-2026-0001 in the portal:\n", "To comment, open it:\nhttps://", "<script>alert(1)</script>"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	for _, want := range []string{`<html lang="en">`, "<title>A &amp; B</title>", `<table role="presentation"`, "Hello Nia &lt;Evans&gt;,", "First line<br>second line",
		`<a href="https://esr-portal.example.nhs.uk/requests/ENH-2026-0001" style=`, "&lt;script&gt;alert(1)&lt;/script&gt;",
		`<a href="https://esr-portal.example.nhs.uk/links/abc" style="display:inline-block;`, ">Approve ENH-2026-0001</a>"} {
		if !strings.Contains(html, want) {
			t.Errorf("HTML lacks %q:\n%s", want, html)
		}
	}
	for _, unwanted := range []string{"<script>", "<style", "<img", "<link", "class="} {
		if strings.Contains(html, unwanted) {
			t.Errorf("HTML has %q", unwanted)
		}
	}
}
