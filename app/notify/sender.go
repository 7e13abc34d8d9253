package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	netmail "net/mail"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/wneessen/go-mail"

	"github.com/nhs-esr/portal/app/actionlink"
)

// What the sender guarantees about each email in the outbox:
//
//   - Never lost: an email is committed in the outbox together with the change it tells of, and stays
//     there until it is marked sent, so a portal that stops (or crashes) at any point loses none.
//   - Never sent by two instances at once: a sender claims a batch in one UPDATE of rows it locks with
//     FOR UPDATE SKIP LOCKED, setting claimed_until and its own claim_token; another sender skips locked
//     and claimed rows.
//   - Prompt after a crash: a claim lasts claimLease and is renewed every renewEvery while its batch is
//     being sent, so a live sender keeps it however slow the SMTP server is, and the claim of a sender
//     that died runs out within claimLease. Another instance, which looks every 10 seconds, then sends
//     those emails: within a minute of the crash. A sender whose claim could not be renewed sends no more
//     of that batch.
//   - Retried: a failed attempt records last_error and waits before the next (one minute, doubling,
//     at most six hours), up to maxAttempts attempts in all.
//   - At least once, not exactly once: each email is marked sent straight after the SMTP server accepts
//     it, so only an email accepted in the instant before a crash (or before the database became
//     unreachable) is sent again once the claim runs out. Every attempt carries the row's Message-ID, so
//     mail systems and readers can recognise the second copy as the same email.
const (
	// PollEvery is how often each instance looks for emails to send.
	PollEvery = 10 * time.Second

	batchSize     = 20               // emails claimed at a time
	claimLease    = 30 * time.Second // how long a claim lasts unless renewed
	renewEvery    = 10 * time.Second // how often a sender renews the claim on the batch it is sending
	maxAttempts   = 10               // then the email stays unsent, with its last error, in the mail view
	firstRetry    = time.Minute
	maxRetryDelay = 6 * time.Hour
	smtpTimeout   = 30 * time.Second
	dbTimeout     = 10 * time.Second // for recording an outcome after the sender was asked to stop
	maxErrorText  = 1000
)

// DefaultFrom is the sender of the portal's emails unless SMTP_FROM says otherwise.
const DefaultFrom = "ESR Enhancement Portal <no-reply@esr-portal.example>"

// TLS modes of an SMTP connection.
const (
	TLSStartTLS = "starttls" // plain connection upgraded with STARTTLS, which the server must offer
	TLSImplicit = "tls"      // TLS from the start (usually port 465)
	TLSNone     = "none"     // no encryption: only for a relay on the same machine or network
)

// SMTPConfig says how to reach the SMTP server that delivers the portal's emails.
type SMTPConfig struct {
	Host     string
	Port     int
	Username string // empty: no authentication
	Password string
	From     string // e.g. "ESR Enhancement Portal <no-reply@esr-portal.example>"
	// ReplyTo is every email's Reply-To: an address whose mail nobody reads (replies are not read; the
	// footer says where to comment instead). Default: From's address.
	ReplyTo string
	TLS     string // TLSStartTLS, TLSImplicit or TLSNone
}

// LogValue describes the configuration for a log line, without the password.
func (c SMTPConfig) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("host", c.Host), slog.Int("port", c.Port), slog.String("tls", c.TLS),
		slog.String("from", c.From), slog.String("reply_to", c.ReplyTo), slog.Bool("authenticated", c.Username != ""),
	)
}

// SMTPFromEnv reads the SMTP settings: SMTP_HOST, SMTP_PORT (default 587, or 465 with SMTP_TLS=tls),
// SMTP_USERNAME and SMTP_PASSWORD (both or neither), SMTP_FROM (default DefaultFrom), SMTP_REPLY_TO
// (default SMTP_FROM's address) and SMTP_TLS (starttls, tls or none; default starttls). Without SMTP_HOST it returns nil: emails are then kept
// for the mail view and not sent.
func SMTPFromEnv(getenv func(string) string) (*SMTPConfig, error) {
	host := strings.TrimSpace(getenv("SMTP_HOST"))
	if host == "" {
		return nil, nil
	}
	c := &SMTPConfig{
		Host:     host,
		Username: strings.TrimSpace(getenv("SMTP_USERNAME")),
		Password: getenv("SMTP_PASSWORD"),
		From:     strings.TrimSpace(getenv("SMTP_FROM")),
		ReplyTo:  strings.TrimSpace(getenv("SMTP_REPLY_TO")),
		TLS:      strings.ToLower(strings.TrimSpace(getenv("SMTP_TLS"))),
	}
	if c.From == "" {
		c.From = DefaultFrom
	}
	if c.TLS == "" {
		c.TLS = TLSStartTLS
	}
	var errs []error
	if strings.ContainsAny(host, ":/ ") && net.ParseIP(host) == nil {
		errs = append(errs, errors.New("SMTP_HOST must be a host name only, such as smtp.example.nhs.uk; put the port in SMTP_PORT"))
	}
	switch c.TLS {
	case TLSStartTLS, TLSNone:
		c.Port = 587
	case TLSImplicit:
		c.Port = 465
	default:
		errs = append(errs, errors.New("SMTP_TLS must be starttls, tls or none"))
	}
	if p := strings.TrimSpace(getenv("SMTP_PORT")); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			errs = append(errs, errors.New("SMTP_PORT must be a port number, such as 587"))
		}
		c.Port = n
	}
	if from, err := netmail.ParseAddress(c.From); err != nil {
		errs = append(errs, errors.New(`SMTP_FROM must be an email address, optionally with a name: "ESR Enhancement Portal <no-reply@example.nhs.uk>"`))
	} else if c.ReplyTo == "" {
		c.ReplyTo = from.Address
	}
	if _, err := netmail.ParseAddress(c.ReplyTo); c.ReplyTo != "" && err != nil {
		errs = append(errs, errors.New("SMTP_REPLY_TO must be an email address whose mail nobody reads, such as no-reply@example.nhs.uk"))
	}
	if (c.Username == "") != (c.Password == "") {
		errs = append(errs, errors.New("set both SMTP_USERNAME and SMTP_PASSWORD, or neither"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return c, nil
}

// Sender delivers the outbox: over SMTP when configured, and otherwise "locally", marking each email
// sent with transport "local" so that administrators can read it in the mail view.
type Sender struct {
	db      *bun.DB
	smtp    *SMTPConfig
	baseURL string
	log     *slog.Logger
	now     func() time.Time
	london  *time.Location
	helo    string
	batch   int
	lease   time.Duration
	renew   time.Duration
	secure  SecureDomains // addresses that get action emails
	linkTTL time.Duration // how long an action link works
}

// NewSender makes a sender. smtp nil keeps emails locally; baseURL is the portal's address, from which
// links in emails are made; now nil is time.Now.
func NewSender(db *bun.DB, smtp *SMTPConfig, baseURL string, log *slog.Logger, now func() time.Time) *Sender {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		log.Warn("Europe/London time zone not found: digest times are shown in UTC", "err", err)
		london = time.UTC
	}
	return &Sender{
		db: db, smtp: smtp, baseURL: strings.TrimRight(baseURL, "/"), log: log, now: now, london: london,
		helo: heloName(baseURL), batch: batchSize, lease: claimLease, renew: renewEvery, linkTTL: actionlink.TTL,
	}
}

// OfferActions makes the sender put action links in the emails that offer actions, when they go to an
// address whose domain is on secure, each working for ttl (actionlink.TTL when 0). Without it every
// email is a summary email.
func (s *Sender) OfferActions(secure SecureDomains, ttl time.Duration) *Sender {
	s.secure = secure
	if ttl > 0 {
		s.linkTTL = ttl
	}
	return s
}

// heloName is the name the sender gives the SMTP server: the portal's host name, or "portal.local"
// when the portal is reached by an IP address.
func heloName(baseURL string) string {
	u, err := url.Parse(baseURL)
	if err != nil || u.Hostname() == "" || net.ParseIP(u.Hostname()) != nil {
		return "portal.local"
	}
	return u.Hostname()
}

// RunOnce claims a batch of due emails and sends them. It returns how many were sent, and an error
// when the database failed or any email could not be sent (that email is left to retry later).
func (s *Sender) RunOnce(ctx context.Context) (int, error) {
	sent, _, err := s.runOnce(ctx)
	return sent, err
}

// runOnce is RunOnce that also says how many emails it claimed.
func (s *Sender) runOnce(ctx context.Context) (sent, claimed int, err error) {
	cl, err := s.claim(ctx, s.now())
	if err != nil || len(cl.emails) == 0 {
		return 0, 0, err
	}
	if s.smtp == nil {
		sent, err = s.keepLocally(ctx, cl.emails)
	} else {
		sent, err = s.sendSMTP(ctx, cl)
	}
	return sent, len(cl.emails), err
}

// claimSQL takes up to a batch of due emails that no other sender holds, for lease. The CTE locks the
// rows it picks and skips those another sender is claiming; under the lock PostgreSQL checks the
// conditions again, so a row that another sender claimed meanwhile is left out.
const claimSQL = `
WITH due AS MATERIALIZED (
    SELECT id FROM email_outbox
    WHERE sent_at IS NULL AND next_attempt_at <= ? AND attempts < ?
        AND (claimed_until IS NULL OR claimed_until <= ?)
    ORDER BY next_attempt_at, id
    LIMIT ?
    FOR UPDATE SKIP LOCKED
)
UPDATE email_outbox AS eo SET claimed_until = ?, claim_token = ?, attempts = eo.attempts + 1
FROM due WHERE eo.id = due.id
RETURNING eo.*`

// claim is a batch of emails one sender holds until it has sent them or its claim runs out.
type claim struct {
	token  string
	emails []OutboxEmail

	mu    sync.Mutex
	until time.Time // when the claim runs out unless renewed
}

func (cl *claim) expiry() time.Time {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return cl.until
}

func (cl *claim) extend(until time.Time) {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	cl.until = until
}

func (s *Sender) claim(ctx context.Context, now time.Time) (*claim, error) {
	now = now.UTC()
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("claim token: %w", err)
	}
	cl := &claim{token: hex.EncodeToString(b), until: now.Add(s.lease)}
	if err := s.db.NewRaw(claimSQL, now, maxAttempts, now, s.batch, cl.until, cl.token).Scan(ctx, &cl.emails); err != nil {
		return nil, fmt.Errorf("claim emails: %w", err)
	}
	return cl, nil
}

// holdClaim renews cl every s.renew until the returned function is called, which waits for the renewal
// under way, if any, to finish.
func (s *Sender) holdClaim(cl *claim) (release func()) {
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(s.renew)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if err := s.renewClaim(cl); err != nil {
					s.log.Warn("renew the claim on emails being sent", "err", err)
				}
			}
		}
	}()
	return func() { close(done); <-stopped }
}

// renewClaim extends the claim on the emails of cl that are still unsent, if it is still cl's.
func (s *Sender) renewClaim(cl *claim) error {
	ctx, cancel := context.WithTimeout(context.Background(), s.renew)
	defer cancel()
	until := s.now().UTC().Add(s.lease)
	_, err := s.db.NewUpdate().Model((*OutboxEmail)(nil)).Set("claimed_until = ?", until).
		Where("claim_token = ? AND sent_at IS NULL", cl.token).Exec(ctx)
	if err != nil {
		return fmt.Errorf("renew claim: %w", err)
	}
	cl.extend(until)
	return nil
}

// held reports whether cl is sure to last while one more email is sent: renewals keep it more than
// half its lease ahead, so less means they are failing and another sender may soon take the batch.
func (s *Sender) held(cl *claim) bool {
	return cl.expiry().Sub(s.now()) > s.lease/2
}

// keepLocally marks claimed emails sent without sending them, each with the level it would have gone
// out at. No action link is made: nobody receives these emails.
func (s *Sender) keepLocally(ctx context.Context, es []OutboxEmail) (int, error) {
	ids := make([]int64, len(es))
	var secure []int64
	for i, e := range es {
		ids[i] = e.ID
		if s.secure.Level(e.ToAddress) == LevelAction {
			secure = append(secure, e.ID)
		}
	}
	ctx, cancel := outcomeContext(ctx)
	defer cancel()
	_, err := s.db.NewUpdate().Model((*OutboxEmail)(nil)).
		Set("sent_at = ?, transport = ?, sent_from = '', claimed_until = NULL, claim_token = NULL, last_error = ''", s.now().UTC(), TransportLocal).
		Set("email_level = CASE WHEN id = ANY (?) THEN ? ELSE ? END", pgdialect.Array(secure), LevelAction, LevelSummary).
		Where("id IN (?) AND sent_at IS NULL", bun.List(ids)).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("keep %d emails for the mail view: %w", len(ids), err)
	}
	return len(ids), nil
}

// sendSMTP sends claimed emails over one connection, renewing the claim on them meanwhile.
func (s *Sender) sendSMTP(ctx context.Context, cl *claim) (int, error) {
	es := cl.emails
	defer s.holdClaim(cl)()
	client, err := s.client()
	if err == nil {
		err = client.DialWithContext(ctx)
	}
	if err != nil && ctx.Err() != nil {
		return 0, s.release(ctx, es)
	}
	if err != nil {
		err = fmt.Errorf("connect to SMTP server %s:%d: %w", s.smtp.Host, s.smtp.Port, err)
		var errs []error
		for i := range es {
			errs = append(errs, s.failed(ctx, &es[i], err))
		}
		return 0, errors.Join(append([]error{err}, errs...)...)
	}
	defer func() {
		if cerr := client.Close(); cerr != nil {
			s.log.Debug("close SMTP connection", "err", cerr)
		}
	}()
	sent := 0
	var errs []error
	for i := range es {
		e := &es[i]
		if ctx.Err() != nil {
			// Stopping: hand the rest back at once rather than when their claim runs out.
			return sent, errors.Join(append(errs, s.release(ctx, es[i:]))...)
		}
		if !s.held(cl) {
			// The claim could not be renewed (the database is out of reach): another sender may take
			// these emails when it runs out, so this one sends no more of them.
			return sent, errors.Join(append(errs, fmt.Errorf("claim on %d emails not renewed: left for the next attempt", len(es)-i))...)
		}
		msg, level, err := s.message(ctx, e)
		if err == nil {
			err = client.Send(msg)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("send email %d: %w", e.ID, err), s.failed(ctx, e, err))
			continue
		}
		if err := s.markSent(ctx, e, level); err != nil {
			return sent, errors.Join(append(errs, err)...)
		}
		sent++
	}
	return sent, errors.Join(errs...)
}

// client makes the SMTP client for one batch.
func (s *Sender) client() (*mail.Client, error) {
	c := s.smtp
	opts := []mail.Option{mail.WithPort(c.Port), mail.WithTimeout(smtpTimeout), mail.WithHELO(s.helo)}
	switch c.TLS {
	case TLSImplicit:
		opts = append(opts, mail.WithSSL())
	case TLSNone:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	}
	if c.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover), mail.WithUsername(c.Username), mail.WithPassword(c.Password))
	}
	client, err := mail.NewClient(c.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("smtp client: %w", err)
	}
	return client, nil
}

// message builds the email of an outbox row, and says at which level it goes out. Every attempt builds
// the same message, with the row's Message-ID and its time of writing as the Date, apart from its
// action links: an email to an address on the secure list that offers actions gets a new link for each
// (the tokens exist only in the email; only their hashes are stored), and any other gets none.
func (s *Sender) message(ctx context.Context, e *OutboxEmail) (*mail.Msg, string, error) {
	level := s.secure.Level(e.ToAddress)
	var links []string
	expires := s.now().UTC().Add(s.linkTTL)
	if level == LevelAction && len(e.Actions) > 0 && e.UserID != 0 && e.RequestID != 0 {
		for _, a := range e.Actions {
			token, err := actionlink.CreateAction(ctx, s.db, e.UserID, e.RequestID, a.Name, a.Version, s.now().UTC(), s.linkTTL)
			if err != nil {
				return nil, "", err
			}
			links = append(links, s.baseURL+actionlink.Prefix+token)
		}
	}
	text, html, err := e.Email(s.baseURL, links, expires).Render()
	if err != nil {
		return nil, "", err
	}
	m := mail.NewMsg(mail.WithNoDefaultUserAgent())
	if err := m.From(s.smtp.From); err != nil {
		return nil, "", fmt.Errorf("from %q: %w", s.smtp.From, err)
	}
	if err := m.AddToFormat(e.ToName, e.ToAddress); err != nil {
		return nil, "", fmt.Errorf("to: %w", err)
	}
	replyTo := s.smtp.ReplyTo
	if replyTo == "" {
		replyTo = s.smtp.From
	}
	if err := m.ReplyTo(replyTo); err != nil {
		return nil, "", fmt.Errorf("reply-to %q: %w", replyTo, err)
	}
	m.Subject(e.Subject)
	m.SetMessageIDWithValue(e.MessageID)
	m.SetDateWithValue(e.CreatedAt)
	m.SetGenHeader(mail.Header("Auto-Submitted"), "auto-generated")
	m.SetBulk()
	m.SetBodyString(mail.TypeTextPlain, text)
	m.AddAlternativeString(mail.TypeTextHTML, html)
	return m, level, nil
}

func (s *Sender) markSent(ctx context.Context, e *OutboxEmail, level string) error {
	ctx, cancel := outcomeContext(ctx)
	defer cancel()
	_, err := s.db.NewUpdate().Model((*OutboxEmail)(nil)).
		Set("sent_at = ?, transport = ?, sent_from = ?, claimed_until = NULL, claim_token = NULL, last_error = ''", s.now().UTC(), TransportSMTP, s.smtp.From).
		Set("email_level = ?", level).
		Where("id = ? AND sent_at IS NULL", e.ID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("mark email %d sent: %w", e.ID, err)
	}
	return nil
}

// failed records why an attempt failed and when to try again, and hands the row back, unless another
// sender has taken it since.
func (s *Sender) failed(ctx context.Context, e *OutboxEmail, cause error) error {
	ctx, cancel := outcomeContext(ctx)
	defer cancel()
	next := s.now().UTC().Add(retryDelay(e.Attempts))
	_, err := s.db.NewUpdate().Model((*OutboxEmail)(nil)).
		Set("claimed_until = NULL, claim_token = NULL, last_error = ?, next_attempt_at = ?", s.errorText(cause), next).
		Where("id = ? AND sent_at IS NULL AND claim_token = ?", e.ID, e.ClaimToken).Exec(ctx)
	if err != nil {
		return fmt.Errorf("record failure of email %d: %w", e.ID, err)
	}
	return nil
}

// release hands claimed rows back untried, unless another sender has taken them since.
func (s *Sender) release(ctx context.Context, es []OutboxEmail) error {
	if len(es) == 0 {
		return nil
	}
	ids := make([]int64, len(es))
	for i, e := range es {
		ids[i] = e.ID
	}
	ctx, cancel := outcomeContext(ctx)
	defer cancel()
	_, err := s.db.NewUpdate().Model((*OutboxEmail)(nil)).
		Set("claimed_until = NULL, claim_token = NULL, attempts = attempts - 1").
		Where("id IN (?) AND sent_at IS NULL AND claim_token = ?", bun.List(ids), es[0].ClaimToken).Exec(ctx)
	if err != nil {
		return fmt.Errorf("release %d emails: %w", len(ids), err)
	}
	return nil
}

// outcomeContext gives the recording of a send's outcome time to finish even when ctx was cancelled
// meanwhile: an email handed to the SMTP server must be marked sent if at all possible.
func outcomeContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), dbTimeout)
}

// errorText is what last_error keeps of an error: bounded, and never the SMTP password.
func (s *Sender) errorText(err error) string {
	text := err.Error()
	if s.smtp != nil && s.smtp.Password != "" {
		text = strings.ReplaceAll(text, s.smtp.Password, "[redacted]")
	}
	if len(text) > maxErrorText {
		text = strings.ToValidUTF8(text[:maxErrorText], "") + "…"
	}
	return text
}

// retryDelay is how long to wait after the attempts-th failed attempt.
func retryDelay(attempts int) time.Duration {
	d := firstRetry
	for i := 1; i < attempts && d < maxRetryDelay; i++ {
		d *= 2
	}
	return min(d, maxRetryDelay)
}

// Run sends the outbox every interval, and the daily digest once a day from digestHour (UK time), until
// ctx ends.
func (s *Sender) Run(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = PollEvery
	}
	if s.smtp == nil {
		s.log.Info("SMTP is not configured: emails are kept for the mail view and not sent")
	} else {
		s.log.Info("sending emails over SMTP", "smtp", *s.smtp)
	}
	t := time.NewTicker(every)
	defer t.Stop()
	digestDone := ""
	for {
		s.drain(ctx)
		if day, due := s.digestDue(digestDone); due && ctx.Err() == nil {
			n, err := s.RunDigest(ctx, day)
			if err != nil {
				s.log.Error("daily digest", "err", err)
			} else {
				digestDone = day.Format(time.DateOnly)
				if n > 0 {
					s.log.Info("daily digest queued", "emails", n)
					s.drain(ctx)
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// drain sends batches while full ones keep coming.
func (s *Sender) drain(ctx context.Context) {
	for ctx.Err() == nil {
		sent, claimed, err := s.runOnce(ctx)
		if err != nil {
			s.log.Warn("send emails", "sent", sent, "claimed", claimed, "err", err)
			return
		}
		if sent > 0 {
			s.log.Debug("sent emails", "count", sent)
		}
		if claimed < s.batch {
			return
		}
	}
}

// digestHour is the hour of the day (UK time) from which the daily digest goes out.
const digestHour = 7

// digestDue returns today (UK time) and whether its digest is due and not yet done by this sender.
func (s *Sender) digestDue(done string) (time.Time, bool) {
	now := s.now().In(s.london)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, s.london)
	return today, now.Hour() >= digestHour && today.Format(time.DateOnly) != done
}
