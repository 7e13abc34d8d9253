// Package config reads the portal's settings from environment variables.
package config

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/nhs-esr/portal/app/actionlink"
	"github.com/nhs-esr/portal/app/notify"
)

// Config is every setting the portal reads, with its default.
type Config struct {
	DatabaseURL     string         // DATABASE_URL: empty runs a private PostgreSQL cluster under DataDir
	MigrateURL      string         // DATABASE_MIGRATE_URL: the owner role that migrates DATABASE_URL's database; empty: DATABASE_URL's role
	Addr            string         // PORTAL_ADDR
	DataDir         string         // PORTAL_DATA_DIR
	BaseURL         *url.URL       // PORTAL_BASE_URL: how users reach the portal, used in links and to decide secure cookies
	SessionSecret   []byte         // PORTAL_SESSION_SECRET (hex, ≥ 32 bytes) or the file DataDir/session-secret
	AuditKey        []byte         // PORTAL_AUDIT_KEY (hex, ≥ 32 bytes) or the file DataDir/audit-key: signs audit checkpoints
	TOTPKey         []byte         // PORTAL_TOTP_KEY (hex, ≥ 32 bytes) or the file DataDir/totp-key: seals authenticator secrets, keys recovery-code hashes
	SessionIdle     time.Duration  // PORTAL_SESSION_IDLE_TIMEOUT
	SessionAbsolute time.Duration  // PORTAL_SESSION_ABSOLUTE_TIMEOUT
	LogLevel        slog.Level     // PORTAL_LOG_LEVEL: debug, info, warn, error
	LogFormat       string         // PORTAL_LOG_FORMAT: text or json
	AutoMigrate     bool           // PORTAL_AUTO_MIGRATE: serve applies pending migrations at start
	TrustedProxies  []netip.Prefix // PORTAL_TRUSTED_PROXIES: comma-separated addresses or CIDR ranges whose X-Forwarded-* and X-Request-ID are believed
	// AssessmentAlertDays (PORTAL_ASSESSMENT_ALERT_DAYS): the development team is alerted about a request
	// that has waited more than this many working days for its impact assessment.
	AssessmentAlertDays int
	// AccessReviewMonths (PORTAL_ACCESS_REVIEW_MONTHS): each organisation's access is reviewed every
	// this many months (default 6: reviews open in January and July); 1, 2, 3, 4, 6 or 12.
	AccessReviewMonths int
	// SecureEmailDomains is PORTAL_SECURE_EMAIL_DOMAINS: the email domains whose addresses get action
	// emails (default nhs.net); every other address gets summary emails.
	SecureEmailDomains notify.SecureDomains
	ActionLinkTTL      time.Duration // PORTAL_ACTION_LINK_TTL: how long an action link in an email works (default 7 days)
}

// Getenv reads one variable; os.Getenv in production, a map in tests.
type Getenv func(string) string

// Load reads the configuration. The session secret is read later by SessionSecretFrom, because it may
// need the data directory to exist.
func Load(getenv Getenv) (*Config, error) {
	c := &Config{
		DatabaseURL: strings.TrimSpace(getenv("DATABASE_URL")),
		MigrateURL:  strings.TrimSpace(getenv("DATABASE_MIGRATE_URL")),
		Addr:        or(getenv("PORTAL_ADDR"), "127.0.0.1:3000"),
		DataDir:     or(getenv("PORTAL_DATA_DIR"), "./data"),
		LogFormat:   or(getenv("PORTAL_LOG_FORMAT"), "text"),
	}
	var errs []error
	if c.MigrateURL != "" && c.DatabaseURL == "" {
		errs = append(errs, fmt.Errorf("DATABASE_MIGRATE_URL is set without DATABASE_URL: set both (the private cluster needs neither)"))
	}
	base, err := url.Parse(or(getenv("PORTAL_BASE_URL"), "http://localhost:3000"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		errs = append(errs, fmt.Errorf("PORTAL_BASE_URL must be an absolute http(s) URL, such as https://esr-portal.example.nhs.uk"))
	} else {
		base.Path = strings.TrimRight(base.Path, "/")
		c.BaseURL = base
	}
	if c.SessionIdle, err = duration(getenv, "PORTAL_SESSION_IDLE_TIMEOUT", 30*time.Minute); err != nil {
		errs = append(errs, err)
	}
	if c.SessionAbsolute, err = duration(getenv, "PORTAL_SESSION_ABSOLUTE_TIMEOUT", 12*time.Hour); err != nil {
		errs = append(errs, err)
	}
	if err := c.LogLevel.UnmarshalText([]byte(or(getenv("PORTAL_LOG_LEVEL"), "info"))); err != nil {
		errs = append(errs, fmt.Errorf("PORTAL_LOG_LEVEL must be debug, info, warn or error"))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("PORTAL_LOG_FORMAT must be text or json"))
	}
	if c.SecureEmailDomains, err = notify.ParseSecureDomains(or(getenv("PORTAL_SECURE_EMAIL_DOMAINS"), notify.DefaultSecureDomains)); err != nil {
		errs = append(errs, fmt.Errorf("PORTAL_SECURE_EMAIL_DOMAINS: %w", err))
	}
	if c.ActionLinkTTL, err = days(getenv, "PORTAL_ACTION_LINK_TTL", actionlink.TTL); err != nil {
		errs = append(errs, err)
	} else if c.ActionLinkTTL > actionlink.MaxTTL {
		errs = append(errs, fmt.Errorf("PORTAL_ACTION_LINK_TTL must be at most %d days", int(actionlink.MaxTTL/(24*time.Hour))))
	}
	if c.AutoMigrate, err = strconv.ParseBool(or(getenv("PORTAL_AUTO_MIGRATE"), "true")); err != nil {
		errs = append(errs, fmt.Errorf("PORTAL_AUTO_MIGRATE must be true or false"))
	}
	if c.AssessmentAlertDays, err = strconv.Atoi(or(getenv("PORTAL_ASSESSMENT_ALERT_DAYS"), "10")); err != nil || c.AssessmentAlertDays < 1 || c.AssessmentAlertDays > 250 {
		errs = append(errs, fmt.Errorf("PORTAL_ASSESSMENT_ALERT_DAYS must be a whole number of working days from 1 to 250"))
	}
	if c.AccessReviewMonths, err = strconv.Atoi(or(getenv("PORTAL_ACCESS_REVIEW_MONTHS"), "6")); err != nil || c.AccessReviewMonths < 1 || 12%c.AccessReviewMonths != 0 {
		errs = append(errs, fmt.Errorf("PORTAL_ACCESS_REVIEW_MONTHS must be 1, 2, 3, 4, 6 or 12 (months between access reviews)"))
	}
	for _, p := range strings.Split(getenv("PORTAL_TRUSTED_PROXIES"), ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		prefix, err := netip.ParsePrefix(p)
		if err != nil {
			addr, aerr := netip.ParseAddr(p)
			if aerr != nil {
				errs = append(errs, fmt.Errorf("PORTAL_TRUSTED_PROXIES: %q is neither an IP address nor a CIDR range such as 10.0.0.0/8", p))
				continue
			}
			prefix = netip.PrefixFrom(addr, addr.BitLen())
		}
		c.TrustedProxies = append(c.TrustedProxies, prefix.Masked())
	}
	for _, secret := range []struct {
		name string
		dest *[]byte
	}{{"PORTAL_SESSION_SECRET", &c.SessionSecret}, {"PORTAL_AUDIT_KEY", &c.AuditKey}, {"PORTAL_TOTP_KEY", &c.TOTPKey}} {
		if s := strings.TrimSpace(getenv(secret.name)); s != "" {
			b, err := hex.DecodeString(s)
			if err != nil || len(b) < 32 {
				errs = append(errs, fmt.Errorf("%s must be at least 32 bytes in hex (64 characters); make one with: openssl rand -hex 32", secret.name))
			}
			*secret.dest = b
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return c, nil
}

// Secure reports whether the portal is reached over TLS, so cookies must be Secure.
func (c *Config) Secure() bool { return c.BaseURL.Scheme == "https" }

// LoadSessionSecret makes sure SessionSecret is set: from PORTAL_SESSION_SECRET when given, otherwise
// from DataDir/session-secret, created with a random value the first time. Several instances behind a
// load balancer must share one secret: set the variable for them.
func (c *Config) LoadSessionSecret() error {
	if len(c.SessionSecret) > 0 {
		return nil
	}
	secret, err := c.loadSecret("session-secret", "session secret", true)
	c.SessionSecret = secret
	return err
}

// LoadAuditKey makes sure AuditKey is set: from PORTAL_AUDIT_KEY when given, otherwise from
// DataDir/audit-key, created with a random value the first time when create is true. With create
// false and neither there, AuditKey stays empty. Several instances must share one key.
func (c *Config) LoadAuditKey(create bool) error {
	if len(c.AuditKey) > 0 {
		return nil
	}
	key, err := c.loadSecret("audit-key", "audit key", create)
	c.AuditKey = key
	return err
}

// LoadTOTPKey makes sure TOTPKey is set: from PORTAL_TOTP_KEY when given, otherwise from
// DataDir/totp-key, created with a random value the first time. It must never be in the database or its
// backups, and must be kept: without it nobody's authenticator works. Several instances must share it.
func (c *Config) LoadTOTPKey() error {
	if len(c.TOTPKey) > 0 {
		return nil
	}
	key, err := c.loadSecret("totp-key", "two-factor key", true)
	c.TOTPKey = key
	return err
}

// AuditKeySource says where the audit key comes from, for messages.
func (c *Config) AuditKeySource() string {
	return "PORTAL_AUDIT_KEY or " + filepath.Join(c.DataDir, "audit-key")
}

// loadSecret reads a hex secret of at least 32 bytes from the file name in DataDir, making one when
// there is none and create is true; it returns nil when there is none and create is false.
func (c *Config) loadSecret(name, what string, create bool) ([]byte, error) {
	path := filepath.Join(c.DataDir, name)
	b, err := os.ReadFile(path)
	if err == nil {
		secret, derr := hex.DecodeString(strings.TrimSpace(string(b)))
		if derr != nil || len(secret) < 32 {
			return nil, fmt.Errorf("%s does not hold a hex secret of at least 32 bytes: remove it to have a new one made", path)
		}
		return secret, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	if !create {
		return nil, nil
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("make %s: %w", what, err)
	}
	if err := os.MkdirAll(c.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("make data directory: %w", err)
	}
	// Written whole to a temporary file, then linked into place, which fails when the file exists: two
	// processes starting together never use two different secrets, nor read a half-written one.
	tmp, err := os.CreateTemp(c.DataDir, "."+name+"-*") // mode 0600
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", what, err)
	}
	defer os.Remove(tmp.Name())
	_, werr := tmp.WriteString(hex.EncodeToString(secret) + "\n")
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return nil, fmt.Errorf("write %s: %w", what, werr)
	}
	if err := os.Link(tmp.Name(), path); errors.Is(err, fs.ErrExist) {
		return c.loadSecret(name, what, false)
	} else if err != nil {
		return nil, fmt.Errorf("write %s: %w", what, err)
	}
	return secret, nil
}

func or(v, def string) string {
	if v = strings.TrimSpace(v); v != "" {
		return v
	}
	return def
}

// days is duration that also takes a whole number of days, such as 7d.
func days(getenv Getenv, name string, def time.Duration) (time.Duration, error) {
	v := strings.TrimSpace(getenv(name))
	if n, ok := strings.CutSuffix(v, "d"); ok {
		d, err := strconv.Atoi(n)
		if err != nil || d <= 0 {
			return 0, fmt.Errorf("%s must be a positive duration such as 7d or 72h", name)
		}
		return time.Duration(d) * 24 * time.Hour, nil
	}
	d, err := duration(getenv, name, def)
	if err != nil {
		return 0, fmt.Errorf("%s must be a positive duration such as 7d or 72h", name)
	}
	return d, nil
}

func duration(getenv Getenv, name string, def time.Duration) (time.Duration, error) {
	v := strings.TrimSpace(getenv(name))
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s must be a positive duration such as 30m or 12h", name)
	}
	return d, nil
}
