// Command portal runs the ESR Enhancement & NSIG Governance Portal: the web server and the commands
// that look after its database. Everything it needs is built in here and passed down; nothing is
// global.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // Europe/London must resolve on machines without a zoneinfo database

	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app"
	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/config"
	"github.com/nhs-esr/portal/app/database"
	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/notify"
	"github.com/nhs-esr/portal/app/organisation"
	"github.com/nhs-esr/portal/app/schedule"
	"github.com/nhs-esr/portal/app/schedule/pdf"
	"github.com/nhs-esr/portal/app/seed"
	"github.com/nhs-esr/portal/app/sso"
	"github.com/nhs-esr/portal/migrations"
)

const usage = `portal — the ESR Enhancement & NSIG Governance Portal

Usage:
  portal serve [--no-migrate]          serve the portal on PORTAL_ADDR (applies pending migrations first)
  portal migrate up|down|status        apply pending migrations, roll back the last group, or list them
  portal user create --email E --name N --org ODS --role R [--role R …]
                                       add a user; the password is read from standard input when it is
                                       piped in, otherwise one is generated and printed once
  portal seed --synthetic N            add N synthetic enhancement requests (for benchmarks), with a progress bar
  portal seed --demo                   add the demo organisations, NSIGs, one user per role and example
                                       requests across the lifecycle (idempotent)
  portal schedule build --quarter 2026-Q3 [--date YYYY-MM-DD] --out FILE.pdf
                                       build the quarter's Development Schedule PDF from the current data
                                       without publishing it (the date defaults to today, Europe/London)
  portal audit verify                  check the audit trail's hash chain and its signed checkpoints; exit 1
                                       at a broken row, a truncation or a forged checkpoint
  portal audit checkpoint              seal the head of the audit trail with a signed checkpoint now
  portal help                          show this help

Configuration comes from environment variables; see README.md. Without DATABASE_URL the portal runs
its own PostgreSQL cluster under PORTAL_DATA_DIR (default ./data).
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "--help" || args[0] == "-h" {
		fmt.Fprint(stdout, usage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		fmt.Fprintf(stderr, "portal: configuration: %v\n", err)
		return 2
	}
	log := newLogger(cfg, stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var cmdErr error
	switch args[0] {
	case "serve":
		cmdErr = serve(ctx, cfg, log, args[1:])
	case "migrate":
		cmdErr = migrateCmd(ctx, cfg, log, args[1:], stdout)
	case "user":
		cmdErr = userCmd(ctx, cfg, log, args[1:], stdin, stdout)
	case "seed":
		cmdErr = seedCmd(ctx, cfg, log, args[1:], stdout)
	case "schedule":
		cmdErr = scheduleCmd(ctx, cfg, log, args[1:], stdout)
	case "audit":
		var code int
		code, cmdErr = auditCmd(ctx, cfg, log, args[1:], stdout)
		if cmdErr == nil {
			return code
		}
	default:
		fmt.Fprintf(stderr, "portal: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if cmdErr != nil {
		var ue usageError
		if errors.As(cmdErr, &ue) {
			fmt.Fprintf(stderr, "portal: %v\n\n%s", cmdErr, usage)
			return 2
		}
		fmt.Fprintf(stderr, "portal: %v\n", cmdErr)
		return 1
	}
	return 0
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// store is the portal's database: the connection it serves with, as the runtime role, and how to
// reach the same database as the owner role that migrates it.
type store struct {
	db         *bun.DB // the runtime role
	migrateURL string  // the owner role; empty when the runtime role migrates too (DATABASE_URL alone)
	close      func()
}

// openDatabase connects to DATABASE_URL, or starts (or joins) the private cluster under the data
// directory. Its close function closes the connection and stops a cluster this process started.
func openDatabase(ctx context.Context, cfg *config.Config, log *slog.Logger) (*store, error) {
	if cfg.DatabaseURL != "" {
		db, err := database.Open(ctx, cfg.DatabaseURL)
		if err != nil {
			return nil, err
		}
		return &store{db: db, migrateURL: cfg.MigrateURL, close: func() { _ = db.Close() }}, nil
	}
	start := time.Now()
	cluster, err := database.StartCluster(ctx, database.ClusterOptions{
		Dir: filepath.Join(cfg.DataDir, "postgres"), Fsync: true, Logger: log,
	})
	if err != nil {
		return nil, err
	}
	log.Info("private PostgreSQL cluster ready", "dir", filepath.Join(cfg.DataDir, "postgres"),
		"first_run", cluster.Initialised(), "took", time.Since(start).Round(time.Millisecond).String())
	db, err := database.Open(ctx, cluster.URL())
	if err != nil {
		_ = cluster.Stop()
		return nil, err
	}
	return &store{db: db, migrateURL: cluster.OwnerURL(), close: func() {
		_ = db.Close()
		if err := cluster.Stop(); err != nil {
			log.Error("stop PostgreSQL", "err", err)
		}
	}}, nil
}

// asOwner runs fn connected as the role that owns the schema: the migrate URL's, or the runtime
// connection's own when there is no migrate URL.
func (s *store) asOwner(ctx context.Context, fn func(db *bun.DB) error) error {
	if s.migrateURL == "" {
		return fn(s.db)
	}
	owner, err := database.Open(ctx, s.migrateURL)
	if err != nil {
		return fmt.Errorf("connect as the owner role (DATABASE_MIGRATE_URL): %w", err)
	}
	defer owner.Close()
	return fn(owner)
}

// migrate applies the pending migrations as the owner role and returns their names.
func (s *store) migrate(ctx context.Context) ([]string, error) {
	var applied []string
	err := s.asOwner(ctx, func(db *bun.DB) error {
		m, err := database.NewMigrator(db, migrations.FS)
		if err != nil {
			return err
		}
		applied, err = m.Up(ctx)
		return err
	})
	return applied, err
}

// warnExposure logs, once at start, anything the serving role could do to cut the audit trail short.
func warnExposure(ctx context.Context, db *bun.DB, log *slog.Logger) {
	exposed, err := audit.Exposure(ctx, db)
	if err != nil {
		log.Error("check the database role", "err", err)
		return
	}
	for _, e := range exposed {
		log.Warn("the audit trail is not protected from the portal's own database role: serve as a runtime role and migrate with DATABASE_MIGRATE_URL (see README)",
			"problem", e)
	}
}

func serve(ctx context.Context, cfg *config.Config, log *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	noMigrate := fs.Bool("no-migrate", !cfg.AutoMigrate, "do not apply pending migrations at start")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if err := cfg.LoadSessionSecret(); err != nil {
		return err
	}
	// The portal's steady heap is a few tens of megabytes; a password check takes 64 MiB while it runs.
	// Unless GOMEMLIMIT says otherwise, the garbage collector works to keep the process near 100 MiB, so
	// that memory taken by a burst of sign-ins goes back once they are done.
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(100 << 20)
	}
	if err := cfg.LoadAuditKey(true); err != nil {
		return err
	}
	if err := cfg.LoadTOTPKey(); err != nil {
		return err
	}
	smtpCfg, err := notify.SMTPFromEnv(os.Getenv)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	st, err := openDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.close()
	db := st.db
	if !*noMigrate {
		applied, err := st.migrate(ctx)
		if err != nil {
			return err
		}
		if len(applied) > 0 {
			log.Info("applied migrations", "count", len(applied), "names", strings.Join(applied, ", "))
		}
	}
	warnExposure(ctx, db, log)
	// The readiness probe only reads which migrations are applied, as the runtime role.
	migrator, err := database.NewMigrator(db, migrations.FS)
	if err != nil {
		return err
	}
	providers, err := sso.FromEnv(os.Getenv)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	a, err := app.New(app.Deps{Config: cfg, DB: db, Logger: log, Migrator: migrator, Providers: providers})
	if err != nil {
		return err
	}
	// Emails go out from the outbox in the background; the sender stops before the database closes.
	sender := notify.NewSender(db, smtpCfg, cfg.BaseURL.String(), log, time.Now).OfferActions(cfg.SecureEmailDomains, cfg.ActionLinkTTL)
	sendCtx, stopSending := context.WithCancel(ctx)
	sending := make(chan struct{})
	go func() { defer close(sending); sender.Run(sendCtx, notify.PollEvery) }()
	err = a.Serve(ctx)
	stopSending()
	<-sending
	return err
}

// withMigratedDB applies pending migrations as the owner role and runs fn as the runtime role.
func withMigratedDB(ctx context.Context, cfg *config.Config, log *slog.Logger, fn func(db *bun.DB) error) error {
	st, err := openDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.close()
	if _, err := st.migrate(ctx); err != nil {
		return err
	}
	return fn(st.db)
}

func migrateCmd(ctx context.Context, cfg *config.Config, log *slog.Logger, args []string, out io.Writer) error {
	if len(args) != 1 || (args[0] != "up" && args[0] != "down" && args[0] != "status") {
		return usageError{"migrate needs one of: up, down, status"}
	}
	st, err := openDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.close()
	return st.asOwner(ctx, func(db *bun.DB) error { return migrateAs(ctx, db, args[0], out) })
}

// migrateAs runs a migrate subcommand connected to db.
func migrateAs(ctx context.Context, db *bun.DB, command string, out io.Writer) error {
	m, err := database.NewMigrator(db, migrations.FS)
	if err != nil {
		return err
	}
	switch command {
	case "up":
		names, err := m.Up(ctx)
		if err != nil {
			return err
		}
		if len(names) == 0 {
			fmt.Fprintln(out, "No pending migrations.")
		}
		for _, n := range names {
			fmt.Fprintf(out, "applied %s\n", n)
		}
	case "down":
		names, err := m.Down(ctx)
		if err != nil {
			return err
		}
		if len(names) == 0 {
			fmt.Fprintln(out, "Nothing to roll back.")
		}
		for _, n := range names {
			fmt.Fprintf(out, "rolled back %s\n", n)
		}
	case "status":
		st, err := m.Status(ctx)
		if err != nil {
			return err
		}
		for _, s := range st {
			state := "pending"
			if s.Applied {
				state = fmt.Sprintf("applied (group %d)", s.GroupID)
			}
			fmt.Fprintf(out, "%-16s %-40s %s\n", s.Name, s.Comment, state)
		}
	}
	return nil
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func userCmd(ctx context.Context, cfg *config.Config, log *slog.Logger, args []string, stdin io.Reader, out io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return usageError{"user needs a subcommand: create"}
	}
	fs := flag.NewFlagSet("user create", flag.ContinueOnError)
	email := fs.String("email", "", "email address")
	name := fs.String("name", "", "full name")
	ods := fs.String("org", "", "ODS code of the user's organisation")
	var roles multiFlag
	fs.Var(&roles, "role", "a role (repeat for several): "+roleNames())
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{err.Error()}
	}
	if *email == "" || *name == "" || *ods == "" || len(roles) == 0 {
		return usageError{"user create needs --email, --name, --org and at least one --role"}
	}
	for _, r := range roles {
		if !identity.IsRole(r) {
			return usageError{fmt.Sprintf("unknown role %q; roles are: %s", r, roleNames())}
		}
	}
	password, generated, err := readPassword(stdin)
	if err != nil {
		return err
	}
	if len(password) < identity.MinPasswordLength {
		return fmt.Errorf("the password must be %d characters or more", identity.MinPasswordLength)
	}
	return withMigratedDB(ctx, cfg, log, func(db *bun.DB) error {
		org, err := organisation.GetByODS(ctx, db, strings.ToUpper(*ods))
		if err != nil {
			return fmt.Errorf("no organisation with ODS code %s: %w", *ods, err)
		}
		u, err := identity.Create(ctx, db, audit.Actor{Name: "system (command line)"}, time.Now(), identity.NewUser{
			Email: *email, Name: *name, OrganisationID: org.ID, Roles: roles, Password: password, MustChangePassword: generated,
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "Created user %d: %s <%s>, %s, roles %s\n", u.ID, u.Name, u.Email, org.Name, strings.Join(u.Roles, ", "))
		if generated {
			fmt.Fprintf(out, "Password (shown once; they must change it when they first sign in): %s\n", password)
		}
		return nil
	})
}

// readPassword reads the first line of stdin when it is piped in; otherwise (a terminal, or nothing
// piped) it generates one.
func readPassword(stdin io.Reader) (string, bool, error) {
	if f, ok := stdin.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p, err := identity.GeneratePassword()
			return p, true, err
		}
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", false, fmt.Errorf("read password: %w", err)
	}
	if line = strings.TrimRight(line, "\r\n"); line != "" {
		return line, false, nil
	}
	p, err := identity.GeneratePassword()
	return p, true, err
}

func roleNames() string {
	names := make([]string, 0, len(identity.Roles))
	for _, r := range identity.Roles {
		names = append(names, r.Name)
	}
	return strings.Join(names, ", ")
}

func seedCmd(ctx context.Context, cfg *config.Config, log *slog.Logger, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	demo := fs.Bool("demo", false, "add the demo data")
	synthetic := fs.Int("synthetic", 0, "add this many synthetic enhancement requests (for benchmarks)")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if !*demo && *synthetic <= 0 {
		return usageError{"seed needs --demo or --synthetic N"}
	}
	if *synthetic > 0 {
		return withMigratedDB(ctx, cfg, log, func(db *bun.DB) error {
			start := time.Now()
			err := seed.Synthetic(ctx, db, time.Now(), *synthetic, uint64(time.Now().UnixNano()), func(done, total int) {
				fmt.Fprintf(out, "\r%s %3d%% %d of %d requests", progressBar(done, total, 30), done*100/total, done, total)
			})
			fmt.Fprintln(out)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "Added %d synthetic requests in %s.\n", *synthetic, time.Since(start).Round(time.Millisecond))
			return nil
		})
	}
	if err := cfg.LoadTOTPKey(); err != nil {
		return err
	}
	sealer, err := identity.NewSealer(cfg.TOTPKey)
	if err != nil {
		return err
	}
	return withMigratedDB(ctx, cfg, log, func(db *bun.DB) error {
		accounts, err := seed.Demo(ctx, db, time.Now())
		if err != nil {
			return err
		}
		made, err := seed.Requests(ctx, db, time.Now())
		if err != nil {
			return err
		}
		if err := seed.DemoTwoFactor(ctx, db, sealer, time.Now(), accounts); err != nil {
			return err
		}
		if made > 0 {
			fmt.Fprintf(out, "Added %d demo requests.\n", made)
		}
		if err := seed.Schedules(ctx, db, time.Now(), pdf.Render); err != nil {
			return err
		}
		fmt.Fprintf(out, "\nDemo data is ready. Sign in at %s with any of these accounts (password: %s):\n\n", cfg.BaseURL, seed.DemoPassword)
		for _, a := range accounts {
			fmt.Fprintf(out, "  %-28s %-38s %s\n", identity.RoleTitle(a.Role), a.Email, a.Name)
		}
		fmt.Fprintf(out, "\nThe central team, development team and administrator accounts also ask for a code from an\n"+
			"authenticator app. Add this demo key to any authenticator app (time-based, 6 digits, 30 seconds):\n\n"+
			"  %s\n\nor print the current code with: oathtool --totp -b %s\n", seed.DemoTOTPSecret, seed.DemoTOTPSecret)
		if code, err := identity.CodeAt(seed.DemoTOTPSecret, time.Now()); err == nil {
			fmt.Fprintf(out, "(the code right now is %s)\n", code)
		}
		fmt.Fprintln(out)
		return nil
	})
}

// progressBar draws done out of total as a bar of width characters.
func progressBar(done, total, width int) string {
	filled := done * width / max(total, 1)
	return "[" + strings.Repeat("#", filled) + strings.Repeat(".", width-filled) + "]"
}

func auditCmd(ctx context.Context, cfg *config.Config, log *slog.Logger, args []string, out io.Writer) (int, error) {
	if len(args) != 1 || (args[0] != "verify" && args[0] != "checkpoint") {
		return 2, usageError{"audit needs a subcommand: verify or checkpoint"}
	}
	// Never made here: a key made by the checker would call every genuine checkpoint forged.
	if err := cfg.LoadAuditKey(false); err != nil {
		return 1, err
	}
	if args[0] == "checkpoint" {
		if len(cfg.AuditKey) == 0 {
			return 1, fmt.Errorf("no audit key to sign the checkpoint with: set PORTAL_AUDIT_KEY, or run portal serve once to make %s", cfg.AuditKeySource())
		}
		return 0, withMigratedDB(ctx, cfg, log, func(db *bun.DB) error {
			s, err := audit.TakeCheckpoint(ctx, db, cfg.AuditKey, time.Now(), 0)
			if err != nil {
				return err
			}
			for _, p := range s.Problems {
				fmt.Fprintf(out, "Warning: %s\n", p)
			}
			if c := s.Checkpoint; c != nil {
				fmt.Fprintf(out, "Audit checkpoint #%d: %d rows, the last row %d with hash %x, signed with key id %s.\n", c.ID, c.RowCount, c.LastID, c.HeadHash, c.KeyID)
			} else {
				fmt.Fprintln(out, "No checkpoint needed: the latest one already seals the head of the audit trail (or the trail is empty).")
			}
			return nil
		})
	}
	code := 0
	err := withMigratedDB(ctx, cfg, log, func(db *bun.DB) error {
		rep, err := audit.Check(ctx, db, cfg.AuditKey)
		if err != nil {
			return err
		}
		exposed, err := audit.Exposure(ctx, db)
		if err != nil {
			return err
		}
		for _, e := range exposed {
			fmt.Fprintf(out, "Warning: %s; serve as a runtime role and migrate with DATABASE_MIGRATE_URL (see README).\n", e)
		}
		printReport(out, rep, cfg.AuditKeySource())
		if !rep.Intact() {
			code = 1
		}
		return nil
	})
	return code, err
}

// printReport writes what audit.Check found, a line per finding, failures in capitals first.
func printReport(out io.Writer, rep *audit.Report, keySource string) {
	when := func(c audit.Checkpoint) string { return c.TakenAt.UTC().Format("2006-01-02 15:04:05 UTC") }
	if brk := rep.Break; brk != nil {
		fmt.Fprintf(out, "Audit trail BROKEN at row %d: %s (%d rows checked before it)\n", brk.ID, brk.Reason, rep.Rows)
	}
	if m := rep.Mismatch; m != nil {
		c := m.Checkpoint
		fmt.Fprintf(out, "Audit trail TRUNCATED: checkpoint #%d, taken %s, sealed %d rows ending at row %d; the trail now holds %d rows: %s",
			c.ID, when(c), c.RowCount, c.LastID, m.Rows, m.Reason)
		if rep.Mismatches > 1 {
			fmt.Fprintf(out, " (%d checkpoints in all do not match)", rep.Mismatches)
		}
		fmt.Fprintln(out)
	}
	for _, c := range rep.Forged {
		key := "it names key id " + c.KeyID + ", this portal's is " + rep.KeyID
		if c.KeyID == rep.KeyID {
			key = "key id " + rep.KeyID
		}
		fmt.Fprintf(out, "Audit checkpoint #%d FORGED: taken %s, said to seal %d rows, but its signature does not match this portal's audit key (%s)\n",
			c.ID, when(c), c.RowCount, key)
	}
	if rep.Unchecked {
		fmt.Fprintf(out, "Audit checkpoints NOT CHECKED: %d checkpoints, but no audit key to check them with (%s)\n", rep.Checkpoints, keySource)
	}
	if rep.Break == nil {
		if rep.Intact() {
			fmt.Fprintf(out, "Audit trail intact: %d rows checked.\n", rep.Rows)
		} else {
			fmt.Fprintf(out, "Audit trail chain holds: %d rows checked.\n", rep.Rows)
		}
	}
	switch {
	case rep.Checkpoints == 0:
		fmt.Fprintf(out, "No checkpoints yet: rows removed from the end of the trail cannot be noticed until the portal seals its head (every %s while it serves, or portal audit checkpoint).\n", audit.CheckpointInterval)
	case rep.Latest != nil && rep.Mismatch == nil && rep.Break == nil:
		c := rep.Latest
		fmt.Fprintf(out, "Checkpoints: %d checked with key id %s; the latest, #%d taken %s, sealed %d rows ending at row %d, and the trail holds them.\n",
			rep.Checkpoints, rep.KeyID, c.ID, when(*c), c.RowCount, c.LastID)
	}
}

// scheduleCmd builds a quarter's Development Schedule PDF from the current data, as publishing would,
// without publishing it, and prints a one-line summary.
func scheduleCmd(ctx context.Context, cfg *config.Config, log *slog.Logger, args []string, out io.Writer) error {
	if len(args) == 0 || args[0] != "build" {
		return usageError{"schedule needs a subcommand: build"}
	}
	fs := flag.NewFlagSet("schedule build", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	quarter := fs.String("quarter", "", "the quarter, such as 2026-Q3")
	date := fs.String("date", "", "the publication date, YYYY-MM-DD")
	outPath := fs.String("out", "", "the PDF file to write")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{"schedule build: " + err.Error()}
	}
	if *quarter == "" || *outPath == "" || fs.NArg() > 0 {
		return usageError{"schedule build needs --quarter and --out"}
	}
	q, err := schedule.ParseQuarter(*quarter)
	if err != nil {
		return usageError{err.Error()}
	}
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		return err
	}
	today := time.Now().In(london)
	day := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, time.UTC)
	if *date != "" {
		if day, err = time.Parse(time.DateOnly, *date); err != nil {
			return usageError{fmt.Sprintf("--date %q: write it as YYYY-MM-DD, such as 2026-11-21", *date)}
		}
	}
	return withMigratedDB(ctx, cfg, log, func(db *bun.DB) error {
		latest, err := schedule.LatestVersion(ctx, db, q)
		if err != nil {
			return err
		}
		doc, err := schedule.BuildSnapshot(ctx, db, schedule.Options{Quarter: q, PublicationDate: day, Version: latest + 1})
		if err != nil {
			return err
		}
		var pdfBytes bytes.Buffer
		if err := pdf.Render(&pdfBytes, doc); err != nil {
			return err
		}
		if err := os.WriteFile(*outPath, pdfBytes.Bytes(), 0o644); err != nil {
			return err
		}
		releases := 0
		for _, r := range doc.Releases {
			releases += len(r.Changes)
		}
		fmt.Fprintf(out, "%s %s (%s, dated %s, version %d): %d releases with %d changes, %d justifications, %d delivered, %d moved; %d bytes written to %s\n",
			doc.Reference, doc.QuarterLabel, q, day.Format(time.DateOnly), doc.Version, len(doc.Releases), releases, len(doc.Justifications),
			len(doc.Delivered), len(doc.Moves), pdfBytes.Len(), *outPath)
		return nil
	})
}
