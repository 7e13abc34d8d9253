package app

import (
	"strconv"

	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/forms"
)

// Page is what every page's template receives, embedded in the page's own struct.
type Page struct {
	Title     string       // the page's own title; the layout adds the service name and "Error: " when Errors.Any()
	User      *CurrentUser // nil when nobody is signed in
	Nav       []NavItem    // role-aware header navigation
	CSRFToken string       // goes in a hidden "_csrf" field of every form that posts
	Flash     string       // a success message shown once in a notification banner
	FlashHref string       // a link on the portal that follows the message, if any
	FlashLink string       // the link's text
	RequestID string
	Errors    forms.Errors   // drives the error summary
	Path      string         // the current URL path, to mark the current navigation item
	Unread    int            // the signed-in user's unread notifications, up to identity.UnreadCap
	Notices   []NoticeBanner // downtime notices, on every page
}

// UnreadBadge is the header's count of unread notifications: the number, or "99+" from 100.
func (p *Page) UnreadBadge() string {
	if p.Unread >= identity.UnreadCap {
		return strconv.Itoa(identity.UnreadCap-1) + "+"
	}
	return strconv.Itoa(p.Unread)
}

// CurrentUser is the signed-in user as the layout shows them.
type CurrentUser struct {
	ID               int64
	Name             string
	Email            string
	OrganisationName string
	OrganisationID   int64
	Roles            []string // role names, e.g. "central_team"
}

// HasRole reports whether the signed-in user holds role.
func (u *CurrentUser) HasRole(role string) bool {
	if u == nil {
		return false
	}
	for _, r := range u.Roles {
		if r == role {
			return true
		}
	}
	return false
}

// NavItem is one link in the header navigation.
type NavItem struct {
	Label   string
	Href    string
	Current bool
}
