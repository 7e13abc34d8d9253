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
)

// Config is every setting the portal reads, with its default.
type Config struct {
	DatabaseURL     string         // DATABASE_URL: empty runs a private PostgreSQL cluster under DataDir
	Addr            string         // PORTAL_ADDR
	DataDir         string         // PORTAL_DATA_DIR
	BaseURL         *url.URL       // PORTAL_BASE_URL: how users reach the portal, used in links and to decide secure cookies
	SessionSecret   []byte         // PORTAL_SESSION_SECRET (hex, ≥ 32 bytes) or the file DataDir/session-secret
	SessionIdle     time.Duration  // PORTAL_SESSION_IDLE_TIMEOUT
	SessionAbsolute time.Duration  // PORTAL_SESSION_ABSOLUTE_TIMEOUT
	LogLevel        slog.Level     // PORTAL_LOG_LEVEL: debug, info, warn, error
	LogFormat       string         // PORTAL_LOG_FORMAT: text or json
	AutoMigrate     bool           // PORTAL_AUTO_MIGRATE: serve applies pending migrations at start
	TrustedProxies  []netip.Prefix // PORTAL_TRUSTED_PROXIES: comma-separated addresses or CIDR ranges whose X-Forwarded-* and X-Request-ID are believed
}

// Getenv reads one variable; os.Getenv in production, a map in tests.
type Getenv func(string) string

// Load reads the configuration. The session secret is read later by SessionSecretFrom, because it may
// need the data directory to exist.
func Load(getenv Getenv) (*Config, error) {
	c := &Config{
		DatabaseURL: strings.TrimSpace(getenv("DATABASE_URL")),
		Addr:        or(getenv("PORTAL_ADDR"), "127.0.0.1:3000"),
		DataDir:     or(getenv("PORTAL_DATA_DIR"), "./data"),
		LogFormat:   or(getenv("PORTAL_LOG_FORMAT"), "text"),
	}
	var errs []error
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
	if c.AutoMigrate, err = strconv.ParseBool(or(getenv("PORTAL_AUTO_MIGRATE"), "true")); err != nil {
		errs = append(errs, fmt.Errorf("PORTAL_AUTO_MIGRATE must be true or false"))
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
	if s := strings.TrimSpace(getenv("PORTAL_SESSION_SECRET")); s != "" {
		b, err := hex.DecodeString(s)
		if err != nil || len(b) < 32 {
			errs = append(errs, fmt.Errorf("PORTAL_SESSION_SECRET must be at least 32 bytes in hex (64 characters); make one with: openssl rand -hex 32"))
		}
		c.SessionSecret = b
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
	path := filepath.Join(c.DataDir, "session-secret")
	b, err := os.ReadFile(path)
	if err == nil {
		secret, derr := hex.DecodeString(strings.TrimSpace(string(b)))
		if derr != nil || len(secret) < 32 {
			return fmt.Errorf("%s does not hold a hex secret of at least 32 bytes: remove it to have a new one made", path)
		}
		c.SessionSecret = secret
		return nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("read session secret: %w", err)
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return fmt.Errorf("make session secret: %w", err)
	}
	if err := os.MkdirAll(c.DataDir, 0o755); err != nil {
		return fmt.Errorf("make data directory: %w", err)
	}
	if err := os.WriteFile(path, []byte(hex.EncodeToString(secret)+"\n"), 0o600); err != nil {
		return fmt.Errorf("write session secret: %w", err)
	}
	c.SessionSecret = secret
	return nil
}

func or(v, def string) string {
	if v = strings.TrimSpace(v); v != "" {
		return v
	}
	return def
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
