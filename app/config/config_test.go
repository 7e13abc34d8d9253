package config

import (
	"fmt"
	"strings"
	"testing"
)

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
