package notify

import (
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
)

// Email levels, as seed 003 describes ESR's own workflow emails: an address on the secure list gets
// "approval and summary" emails, whose actions it can take from the email; any other address gets
// summary emails, which say what happened and link to the portal.
const (
	LevelAction  = "action"
	LevelSummary = "summary"
)

// DefaultSecureDomains is the secure list unless PORTAL_SECURE_EMAIL_DOMAINS says otherwise: NHSmail.
const DefaultSecureDomains = "nhs.net"

// SecureDomains is the list of email domains whose addresses receive action emails. A domain matches
// an address whose domain is exactly it (so "nhs.net" does not cover "example.nhs.net"; list each
// accredited domain). The zero value lists none: every email is a summary email.
type SecureDomains struct {
	domains map[string]bool
}

// ParseSecureDomains reads a comma-separated list of domains, such as "nhs.net, wales.nhs.uk". "none"
// lists no domain.
func ParseSecureDomains(list string) (SecureDomains, error) {
	d := SecureDomains{domains: map[string]bool{}}
	if strings.EqualFold(strings.TrimSpace(list), "none") {
		return d, nil
	}
	var errs []error
	for _, part := range strings.Split(list, ",") {
		part = strings.ToLower(strings.TrimSpace(part))
		if part == "" {
			continue
		}
		if !domainName(part) {
			errs = append(errs, fmt.Errorf("%q is not an email domain such as nhs.net", part))
			continue
		}
		d.domains[part] = true
	}
	if err := errors.Join(errs...); err != nil {
		return SecureDomains{}, err
	}
	if len(d.domains) == 0 {
		return SecureDomains{}, errors.New(`list at least one domain, such as nhs.net, or say "none"`)
	}
	return d, nil
}

// domainName reports whether s is a plain DNS name of two labels or more: letters, digits and hyphens.
func domainName(s string) bool {
	if len(s) > 253 || !strings.Contains(s, ".") {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return false
		}
		for _, c := range label {
			if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
				return false
			}
		}
	}
	return true
}

// Level is the level of emails to an address: LevelAction when its domain is on the list, otherwise
// LevelSummary (and for anything that is not an address).
func (d SecureDomains) Level(address string) string {
	a, err := mail.ParseAddress(address)
	if err != nil {
		return LevelSummary
	}
	at := strings.LastIndexByte(a.Address, '@')
	if at < 0 || !d.domains[strings.ToLower(a.Address[at+1:])] {
		return LevelSummary
	}
	return LevelAction
}

// List is the domains in the list, for messages and the README's example.
func (d SecureDomains) List() []string {
	out := make([]string, 0, len(d.domains))
	for k := range d.domains {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
