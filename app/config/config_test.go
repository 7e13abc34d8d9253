package config

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func env(vars map[string]string) Getenv { return func(k string) string { return vars[k] } }

func TestMigrateURLNeedsDatabaseURL(t *testing.T) {
	if _, err := Load(env(map[string]string{"DATABASE_MIGRATE_URL": "postgres://portal@db/portal"})); err == nil ||
		!strings.Contains(err.Error(), "DATABASE_MIGRATE_URL is set without DATABASE_URL") {
		t.Fatalf("DATABASE_MIGRATE_URL alone: %v, want refused", err)
	}
	c, err := Load(env(map[string]string{"DATABASE_URL": "postgres://portal_app@db/portal", "DATABASE_MIGRATE_URL": " postgres://portal@db/portal "}))
	if err != nil {
		t.Fatal(err)
	}
	if c.DatabaseURL != "postgres://portal_app@db/portal" || c.MigrateURL != "postgres://portal@db/portal" {
		t.Errorf("urls = %q, %q", c.DatabaseURL, c.MigrateURL)
	}
}

func TestAuditKeyFromEnvironment(t *testing.T) {
	for _, bad := range []string{"abc", strings.Repeat("zz", 32), strings.Repeat("ab", 31)} {
		if _, err := Load(env(map[string]string{"PORTAL_AUDIT_KEY": bad})); err == nil || !strings.Contains(err.Error(), "PORTAL_AUDIT_KEY must be") {
			t.Errorf("PORTAL_AUDIT_KEY=%q: %v, want refused", bad, err)
		}
	}
	dir := t.TempDir()
	c, err := Load(env(map[string]string{"PORTAL_AUDIT_KEY": strings.Repeat("ab", 32), "PORTAL_DATA_DIR": dir}))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.LoadAuditKey(true); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(c.AuditKey, bytes.Repeat([]byte{0xab}, 32)) {
		t.Errorf("key = %x", c.AuditKey)
	}
	if _, err := os.Stat(filepath.Join(dir, "audit-key")); !os.IsNotExist(err) {
		t.Errorf("a key file was made although PORTAL_AUDIT_KEY is set: %v", err)
	}
}

// TestAuditKeyFile: without the variable the key is made once in the data directory (mode 0600), by one
// of several processes starting at once, and read back by the others; without create nothing is made.
func TestAuditKeyFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	c, err := Load(env(map[string]string{"PORTAL_DATA_DIR": dir}))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.LoadAuditKey(false); err != nil || c.AuditKey != nil {
		t.Fatalf("without create: key %x, %v; want none and no error", c.AuditKey, err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("without create the data directory was made: %v", err)
	}
	const n = 8
	keys := make([][]byte, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ci := *c
			if err := ci.LoadAuditKey(true); err != nil {
				t.Errorf("process %d: %v", i, err)
			}
			keys[i] = ci.AuditKey
		}()
	}
	wg.Wait()
	for i := range keys {
		if len(keys[i]) != 32 || !bytes.Equal(keys[i], keys[0]) {
			t.Fatalf("process %d has key %x, process 0 %x: want one 32-byte key", i, keys[i], keys[0])
		}
	}
	st, err := os.Stat(filepath.Join(dir, "audit-key"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("audit-key mode %o, want 600", st.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("data directory holds %d files, want only audit-key", len(entries))
	}
	again := *c
	again.AuditKey = nil
	if err := again.LoadAuditKey(false); err != nil || !bytes.Equal(again.AuditKey, keys[0]) {
		t.Errorf("read back: %x, %v", again.AuditKey, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "audit-key"), []byte("short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	again.AuditKey = nil
	if err := again.LoadAuditKey(true); err == nil {
		t.Error("a file without a 32-byte hex key was accepted")
	}
}

func TestTrustedProxies(t *testing.T) {
	for in, want := range map[string]string{
		"":                           "[]",
		"10.0.0.5":                   "[10.0.0.5/32]",
		" 10.0.0.5 , 10.1.2.0/24,":   "[10.0.0.5/32 10.1.2.0/24]",
		"10.1.2.3/16, ::1, fd00::/8": "[10.1.0.0/16 ::1/128 fd00::/8]",
	} {
		c, err := Load(func(k string) string {
			if k == "PORTAL_TRUSTED_PROXIES" {
				return in
			}
			return ""
		})
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if got := fmt.Sprint(c.TrustedProxies); got != want {
			t.Errorf("%q: %s, want %s", in, got, want)
		}
	}
	for _, in := range []string{"proxy.internal", "10.0.0.300", "10.0.0.0/33"} {
		_, err := Load(func(k string) string {
			if k == "PORTAL_TRUSTED_PROXIES" {
				return in
			}
			return ""
		})
		if err == nil || !strings.Contains(err.Error(), "PORTAL_TRUSTED_PROXIES") {
			t.Errorf("%q: %v, want an error naming PORTAL_TRUSTED_PROXIES", in, err)
		}
	}
}

// TestSecureEmailDomains: nhs.net by default; a list, case and spaces ignored; "none" for no action
// emails at all; anything that is not a domain refused. A domain covers its own addresses only.
func TestSecureEmailDomains(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	for addr, want := range map[string]string{
		"jo.bloggs@nhs.net": "action", "Jo <JO.BLOGGS@NHS.NET>": "action", "jo@trust.nhs.uk": "summary",
		"jo@example.nhs.net": "summary", "jo@nhs.net.evil.example": "summary", "not an address": "summary",
	} {
		if got := c.SecureEmailDomains.Level(addr); got != want {
			t.Errorf("default list: %s is %s, want %s", addr, got, want)
		}
	}
	c, err = Load(env(map[string]string{"PORTAL_SECURE_EMAIL_DOMAINS": " NHS.net, wales.nhs.uk ,"}))
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(c.SecureEmailDomains.List()); got != "[nhs.net wales.nhs.uk]" {
		t.Errorf("list = %s", got)
	}
	c, err = Load(env(map[string]string{"PORTAL_SECURE_EMAIL_DOMAINS": "none"}))
	if err != nil || c.SecureEmailDomains.Level("jo@nhs.net") != "summary" {
		t.Errorf("none: %v, %v", c, err)
	}
	for _, bad := range []string{"nhs", "*.nhs.net", "nhs.net/x", "@nhs.net", ",", "-a.nhs.net"} {
		if _, err := Load(env(map[string]string{"PORTAL_SECURE_EMAIL_DOMAINS": bad})); err == nil || !strings.Contains(err.Error(), "PORTAL_SECURE_EMAIL_DOMAINS") {
			t.Errorf("PORTAL_SECURE_EMAIL_DOMAINS=%q: %v, want refused", bad, err)
		}
	}
}

// TestActionLinkTTL: 7 days by default, in days or as a duration, at most 30 days.
func TestActionLinkTTL(t *testing.T) {
	for v, want := range map[string]time.Duration{"": 7 * 24 * time.Hour, "3d": 72 * time.Hour, "36h": 36 * time.Hour, "30d": 30 * 24 * time.Hour} {
		c, err := Load(env(map[string]string{"PORTAL_ACTION_LINK_TTL": v}))
		if err != nil || c.ActionLinkTTL != want {
			t.Errorf("PORTAL_ACTION_LINK_TTL=%q: %v, %v; want %s", v, c, err, want)
		}
	}
	for _, bad := range []string{"0d", "-1d", "31d", "soon", "1.5d", "0"} {
		if _, err := Load(env(map[string]string{"PORTAL_ACTION_LINK_TTL": bad})); err == nil || !strings.Contains(err.Error(), "PORTAL_ACTION_LINK_TTL") {
			t.Errorf("PORTAL_ACTION_LINK_TTL=%q: %v, want refused", bad, err)
		}
	}
}

func TestAccessReviewMonths(t *testing.T) {
	for v, want := range map[string]int{"": 6, "6": 6, "3": 3, "12": 12, "1": 1, "4": 4} {
		c, err := Load(env(map[string]string{"PORTAL_ACCESS_REVIEW_MONTHS": v}))
		if err != nil || c.AccessReviewMonths != want {
			t.Errorf("PORTAL_ACCESS_REVIEW_MONTHS=%q: %v, %v; want %d", v, c, err, want)
		}
	}
	for _, bad := range []string{"0", "5", "7", "13", "24", "-6", "six", "6.0"} {
		if _, err := Load(env(map[string]string{"PORTAL_ACCESS_REVIEW_MONTHS": bad})); err == nil || !strings.Contains(err.Error(), "PORTAL_ACCESS_REVIEW_MONTHS") {
			t.Errorf("PORTAL_ACCESS_REVIEW_MONTHS=%q: %v, want refused", bad, err)
		}
	}
}
