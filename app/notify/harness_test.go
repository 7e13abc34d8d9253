package notify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	netmail "net/mail"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/database/dbtest"
	"github.com/nhs-esr/portal/app/notify/mailtest"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

const testBaseURL = "https://esr-portal.example.nhs.uk"

// clock is a settable clock shared by the senders of a test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// fixture is a fresh database with one organisation, to which users are added.
type fixture struct {
	t     *testing.T
	db    *bun.DB
	url   string // the database's connection URL, for a sender in another process
	org   int64
	clock *clock
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	d := dbtest.New(t)
	f := &fixture{t: t, db: d.DB, url: d.URL, clock: newClock()}
	err := d.DB.NewRaw("INSERT INTO organisations (name, ods_code, region_id) VALUES ('Test Hospital NHS Trust', 'RTEST', 2) RETURNING id").
		Scan(t.Context(), &f.org)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// user adds an active user and returns their id.
func (f *fixture) user(name string) int64 {
	f.t.Helper()
	var id int64
	email := strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@test.nhs.uk"
	err := f.db.NewRaw("INSERT INTO users (email, name, organisation_id, password_hash) VALUES (?, ?, ?, 'not a hash') RETURNING id",
		email, name, f.org).Scan(f.t.Context(), &id)
	if err != nil {
		f.t.Fatal(err)
	}
	return id
}

// request adds a submitted enhancement request with the reference, raised by userID, and returns its id.
func (f *fixture) request(userID int64, reference string) int64 {
	f.t.Helper()
	var id int64
	err := f.db.NewRaw(`INSERT INTO requests (kind, reference, title, status, organisation_id, raised_by_id, received_at, ack_due_on,
		submission_token, created_at, updated_at)
		VALUES ('enhancement', ?, 'Payslip tweaks', 'submitted', ?, ?, now(), current_date, gen_random_uuid(), now(), now())
		RETURNING id`, reference, f.org, userID).Scan(f.t.Context(), &id)
	if err != nil {
		f.t.Fatal(err)
	}
	return id
}

func (f *fixture) disable(userID int64) {
	f.t.Helper()
	if _, err := f.db.NewRaw("UPDATE users SET status = 'disabled' WHERE id = ?", userID).Exec(f.t.Context()); err != nil {
		f.t.Fatal(err)
	}
}

// setPrefs stores a user's settings directly.
func (f *fixture) setPrefs(userID int64, digest bool, prefs ...Preference) {
	f.t.Helper()
	if _, err := f.db.NewRaw("INSERT INTO notification_settings (user_id, email_digest, updated_at) VALUES (?, ?, now())", userID, digest).Exec(f.t.Context()); err != nil {
		f.t.Fatal(err)
	}
	for _, p := range prefs {
		if _, err := f.db.NewRaw("INSERT INTO notification_preferences (user_id, event, in_app, email) VALUES (?, ?, ?, ?)",
			userID, p.Event, p.InApp, p.Email).Exec(f.t.Context()); err != nil {
			f.t.Fatal(err)
		}
	}
}

func (f *fixture) queue(msgs ...Message) {
	f.t.Helper()
	if err := Queue(f.t.Context(), f.db, f.clock.Now(), msgs...); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) notifications(userID int64) []Notification {
	f.t.Helper()
	var ns []Notification
	if err := f.db.NewSelect().Model(&ns).Where("user_id = ?", userID).Order("id").Scan(f.t.Context()); err != nil {
		f.t.Fatal(err)
	}
	return ns
}

func (f *fixture) outbox() []OutboxEmail {
	f.t.Helper()
	var es []OutboxEmail
	if err := f.db.NewSelect().Model(&es).Order("id").Scan(f.t.Context()); err != nil {
		f.t.Fatal(err)
	}
	return es
}

func (f *fixture) outboxTo(userID int64) []OutboxEmail {
	f.t.Helper()
	var out []OutboxEmail
	for _, e := range f.outbox() {
		if e.UserID == userID {
			out = append(out, e)
		}
	}
	return out
}

func (f *fixture) sender(cfg *SMTPConfig) *Sender {
	return NewSender(f.db, cfg, testBaseURL, nil, f.clock.Now)
}

// comment is a message about a comment on a request, to userID.
func comment(userID int64, n int) Message {
	return Message{
		UserID: userID, Event: EventComment,
		Title: fmt.Sprintf("New comment %d on ENH-2026-0042", n),
		Body:  "Sam Patel commented on ENH-2026-0042 Payslip tweaks.",
		Link:  "/requests/ENH-2026-0042",
	}
}

// received is one email an smtpServer accepted.
type received struct {
	At   time.Time // when the server accepted it
	From string
	To   []string
	Msg  *netmail.Message
	Body string         // the plain-text part
	Mail *mailtest.Mail // the whole email taken apart
}

// smtpServer is an in-process SMTP server that keeps every email it accepts.
type smtpServer struct {
	port int

	mu       sync.Mutex
	mails    []received
	failNext int           // reject this many emails with a temporary failure
	delay    time.Duration // before accepting each email
	onData   func()        // called as each email arrives
}

func startSMTP(t *testing.T) *smtpServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpServer{port: ln.Addr().(*net.TCPAddr).Port}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &smtpSession{server: s}, nil }))
	srv.Domain = "localhost"
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.ErrorLog = log.New(io.Discard, "", 0)
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, smtp.ErrServerClosed) {
			t.Errorf("smtp server: %v", err)
		}
	}()
	t.Cleanup(func() { _ = srv.Close() })
	return s
}

func (s *smtpServer) config() *SMTPConfig {
	return &SMTPConfig{Host: "127.0.0.1", Port: s.port, From: DefaultFrom, TLS: TLSNone}
}

// set changes how the server behaves.
func (s *smtpServer) set(change func(*smtpServer)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	change(s)
}

func (s *smtpServer) received() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.mails...)
}

type smtpSession struct {
	server *smtpServer
	from   string
	to     []string
}

func (ss *smtpSession) Mail(from string, _ *smtp.MailOptions) error { ss.from = from; return nil }

func (ss *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.to = append(ss.to, to)
	return nil
}

func (ss *smtpSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s := ss.server
	s.mu.Lock()
	onData, delay := s.onData, s.delay
	s.mu.Unlock()
	if onData != nil {
		onData()
	}
	time.Sleep(delay)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failNext > 0 {
		s.failNext--
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later"}
	}
	msg, err := netmail.ReadMessage(strings.NewReader(string(raw)))
	if err != nil {
		return err
	}
	parsed, err := mailtest.Parse(raw)
	if err != nil {
		return err
	}
	s.mails = append(s.mails, received{At: time.Now(), From: ss.from, To: ss.to, Msg: msg, Body: parsed.Body(), Mail: parsed})
	return nil
}

func (ss *smtpSession) Reset()        { ss.from, ss.to = "", nil }
func (ss *smtpSession) Logout() error { return nil }

// waitFor polls cond until it holds or the time runs out.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// count runs a count query.
func count(t *testing.T, db bun.IDB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.NewRaw(query, args...).Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}
