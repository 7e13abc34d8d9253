package app

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/notify"
)

// TestNotificationSettingsOfferWhatCanReach: a requester is not offered NSIG seats, meetings or
// regional updates, which never reach a requester, and saving their settings keeps those as they
// were, for when a seat makes them an NSIG member; an NSIG member is offered them.
func TestNotificationSettingsOfferWhatCanReach(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	requester, member := p.users[identity.RoleRequester], p.users[identity.RoleNSIGMember]
	nsigOnly := []string{notify.EventNSIGSeat, notify.EventNSIGAgenda, notify.EventProjectHandover, notify.EventRegionalUpdate, notify.EventRegionalView}

	res := p.as(requester).get("/account/notifications")
	mustStatus(t, res, 200, "the requester's settings")
	for _, e := range nsigOnly {
		if strings.Contains(res.body, `value="`+e+`"`) {
			t.Errorf("the requester is offered %s", e)
		}
	}
	mustContain(t, res.body, "the requester's settings", `value="`+notify.EventDecisionNeeded+`"`, `value="`+notify.EventComment+`"`)
	res = p.as(member).get("/account/notifications")
	for _, e := range nsigOnly {
		mustContain(t, res.body, "the NSIG member's settings", `value="`+e+`"`)
	}

	// The requester turns everything off; what was not offered stays on.
	b := p.as(requester)
	res = b.post("/account/notifications", url.Values{"emails": {"immediate"}})
	mustStatus(t, res, 303, "saving the requester's settings")
	_, prefs, err := notify.Preferences(context.Background(), p.db.DB, requester.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, pref := range prefs {
		offered := !strings.Contains(strings.Join(nsigOnly, " "), pref.Event)
		if offered && (pref.InApp || pref.Email) {
			t.Errorf("%s is still on after turning everything off", pref.Event)
		}
		if !offered && (!pref.InApp || !pref.Email) {
			t.Errorf("%s, not offered, was turned off", pref.Event)
		}
	}
	// A choice the page does not offer is refused.
	res = b.post("/account/notifications", url.Values{"emails": {"immediate"}, "in_app": {notify.EventNSIGAgenda}})
	mustStatus(t, res, 422, "choosing an event the requester is not offered")
}
