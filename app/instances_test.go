package app

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nhs-esr/portal/app/identity"
)

// TestTwoInstancesShareOneDatabase runs two portal instances on one database, as behind a load
// balancer: a session started through one is good on the other, and a change made through one shows
// on the other within the time the reference lists are kept in memory.
func TestTwoInstancesShareOneDatabase(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	const ttl = 3 * time.Second
	second, err := New(Deps{Config: p.app.cfg, DB: p.db.DB, Logger: p.app.log, Migrator: p.app.migrator, Now: p.clock.Now, ChoicesTTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	other := *p
	other.app = second
	central := p.users[identity.RoleCentralTeam]
	onOne, onTwo := p.as(central), other.as(central)
	onTwo.cookies = onOne.cookies // the same browser, sent to either instance

	// The second instance reads the NSIGs into memory.
	primed := time.Now()
	if body := onTwo.get("/requests").body; strings.Contains(body, "Rostering and Job Planning") {
		t.Fatal("the NSIG exists already")
	}
	mustStatus(t, onOne.post("/nsigs", url.Values{"name": {"Rostering and Job Planning"}, "functional_areas": {"Core HR"}, "status": {"active"}}),
		303, "add an NSIG through the first instance")
	added := time.Now()
	// The first instance, which made the change, offers it at once; the second, while its lists are
	// younger than the TTL, does not yet.
	if !strings.Contains(onOne.get("/requests").body, "Rostering and Job Planning") {
		t.Error("the instance that added the NSIG does not offer it")
	}
	stale := !strings.Contains(onTwo.get("/requests").body, "Rostering and Job Planning")
	if young := time.Since(primed) < ttl-200*time.Millisecond; young && !stale {
		t.Error("the second instance read its lists again before they were due")
	}
	for {
		if strings.Contains(onTwo.get("/requests").body, "Rostering and Job Planning") {
			break
		}
		if time.Since(added) > ttl+2*time.Second {
			t.Fatalf("the second instance still does not offer the new NSIG %s after it was added", time.Since(added).Round(time.Millisecond))
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("the second instance offered the new NSIG %s after it was added (its lists are kept %s)", time.Since(added).Round(time.Millisecond), ttl)
}
