package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// labels says in words what each recorded action is, as the audit trail shows it. Every action the
// portal records has one (the app's audit label test reads the code base to check).
var labels = map[string]string{
	"access_review.escalated":          "Overdue access review escalated",
	"access_review.marked":             "Access review: person marked",
	"access_review.opened":             "Access review opened",
	"access_review.signed_off":         "Access review signed off",
	"action_link.used":                 "Acted from an email link",
	"attachment.added":                 "Document attached",
	"attachment.removed":               "Document removed",
	"downtime.announced":               "Downtime announced",
	"downtime.withdrawn":               "Downtime notice withdrawn",
	"draft.created":                    "Draft request started",
	"draft.saved":                      "Draft request saved",
	"justification.endorsed":           "Business justification endorsed",
	"justification.saved":              "Business justification saved",
	"justification.submitted":          "Business justification submitted",
	"notification.preferences_changed": "Email settings changed",
	"nsig.action_added":                "Meeting action added",
	"nsig.action_marked":               "Meeting action updated",
	"nsig.agenda_item_decided":         "Agenda item accepted or declined",
	"nsig.agenda_item_requested":       "Agenda item proposed",
	"nsig.agenda_published":            "Meeting agenda published",
	"nsig.appointed":                   "Appointed to an NSIG seat",
	"nsig.attendance_recorded":         "Meeting attendance recorded",
	"nsig.created":                     "NSIG created",
	"nsig.meeting_scheduled":           "Meeting scheduled",
	"nsig.minutes_recorded":            "Minutes recorded",
	"nsig.term_ended":                  "NSIG term ended",
	"nsig.updated":                     "NSIG details changed",
	"organisation.created":             "Organisation added",
	"organisation.merged":              "Organisations merged",
	"organisation.updated":             "Organisation changed",
	"project.created":                  "Linked project added",
	"project.handed_over":              "Linked project handed over",
	"project.region_extended":          "Linked project extended to a region",
	"project.updated":                  "Linked project changed",
	"release.created":                  "Release added",
	"release.released":                 "Release marked as released",
	"release.updated":                  "Release changed",
	"request.acknowledge":              "Request acknowledged",
	"request.allocate":                 "Request allocated to a release",
	"request.answer":                   "Question answered",
	"request.approve":                  "Request approved",
	"request.assessment_completed":     "Impact assessment completed",
	"request.assessment_saved":         "Impact assessment saved as a draft",
	"request.assessor_assigned":        "Impact assessment assigned",
	"request.assigned":                 "Request assigned",
	"request.classify_enhancement":     "Classified as an enhancement",
	"request.commented":                "Comment added",
	"request.decline":                  "Not taken forward after triage",
	"request.defer":                    "Request deferred",
	"request.deliver":                  "Request marked as delivered",
	"request.followed":                 "Request followed",
	"request.moved":                    "Request moved to another release",
	"request.not_approve":              "Request not approved",
	"request.not_taken_forward":        "Request not taken forward",
	"request.progress":                 "Request taken forward",
	"request.raised":                   "Request raised",
	"request.regional_view":            "Regional view given",
	"request.reject":                   "Request rejected",
	"request.request_information":      "Information asked of the requester",
	"request.review":                   "Brought back for assessment",
	"request.submit_for_assessment":    "Sent for impact assessment",
	"request.summary_changed":          "Public summary changed",
	"request.supported":                "Request supported",
	"request.unfollowed":               "Request no longer followed",
	"request.withdraw":                 "Request withdrawn",
	"requirement.agreed":               "Requirement definition agreed",
	"requirement.saved":                "Requirement definition saved",
	"rsig.update_sent":                 "Regional update sent",
	"schedule.made_private":            "Development Schedule taken off the public page",
	"schedule.made_public":             "Development Schedule made public",
	"schedule.published":               "Development Schedule published",
	"session.ended":                    "Session ended",
	"session.ended_all":                "Every session ended",
	"session.ended_others":             "Other sessions ended",
	"session.second_factor_failed":     "Wrong authenticator code",
	"session.second_factor_passed":     "Authenticator code accepted",
	"session.sign_in_failed":           "Sign-in failed",
	"session.signed_in":                "Signed in",
	"session.signed_out":               "Signed out",
	"user.access_removed":              "Access removed",
	"user.access_requested":            "Access requested",
	"user.created":                     "User added",
	"user.disabled":                    "Account disabled",
	"user.enabled":                     "Account enabled again",
	"user.identity_linked":             "Single sign-on account linked",
	"user.leaving_date_set":            "Leaving date set",
	"user.left":                        "Left (leaving date reached)",
	"user.password_changed":            "Password changed",
	"user.password_check_failed":       "Wrong current password",
	"user.password_reset":              "Password reset",
	"user.reactivated":                 "Account reactivated after an access review",
	"user.role_granted":                "Role granted",
	"user.role_refused":                "Role request refused",
	"user.role_revoked":                "Role revoked",
	"user.roles_changed":               "Roles changed",
	"user.suspended":                   "Account suspended (access review not confirmed)",
	"user.two_factor_enrolled":         "Two-factor authentication set up",
	"user.two_factor_reset":            "Two-factor authentication reset",
	"user.updated":                     "User details changed",
}

// Label is the action in words. An action without a label (one recorded by an older version of the
// portal) reads as its words, "user.password_changed" as "User password changed".
func Label(action string) string {
	if l, ok := labels[action]; ok {
		return l
	}
	words := strings.Join(strings.Fields(strings.NewReplacer(".", " ", "_", " ").Replace(action)), " ")
	if words == "" {
		return action
	}
	return strings.ToUpper(words[:1]) + words[1:]
}

// HasLabel reports whether action has its own label.
func HasLabel(action string) bool {
	_, ok := labels[action]
	return ok
}

// LabelledActions lists the actions that have a label, sorted.
func LabelledActions() []string {
	out := make([]string, 0, len(labels))
	for k := range labels {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Change is one field of an event's details: its value before and after (either may be empty).
type Change struct {
	Field         string
	Before, After string
	HasBefore     bool
	HasAfter      bool
}

// Changes reads an event's Before and After as a list of fields, in the order of their names, each
// value in words: lists joined by commas, true and false as Yes and No, nested fields as
// "name: value". A field whose value is the same before and after is left out, unless it is all
// there is. Details that are not a JSON object read as one field, "Details".
func Changes(before, after json.RawMessage) []Change {
	b, bok := object(before)
	a, aok := object(after)
	if !bok || !aok {
		var out []Change
		if len(before) > 0 || len(after) > 0 {
			c := Change{Field: "Details"}
			if len(before) > 0 {
				c.Before, c.HasBefore = valueText(before), true
			}
			if len(after) > 0 {
				c.After, c.HasAfter = valueText(after), true
			}
			out = append(out, c)
		}
		return out
	}
	keys := map[string]bool{}
	for k := range b {
		keys[k] = true
	}
	for k := range a {
		keys[k] = true
	}
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)
	var out, same []Change
	for _, k := range names {
		c := Change{Field: fieldLabel(k)}
		bv, inB := b[k]
		av, inA := a[k]
		if inB {
			c.Before, c.HasBefore = valueText(bv), true
		}
		if inA {
			c.After, c.HasAfter = valueText(av), true
		}
		if inA && !inB && c.After == "" {
			continue // an empty value added says nothing
		}
		if inA && inB && c.Before == c.After {
			same = append(same, c)
			continue
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return same
	}
	return out
}

// object decodes raw as a JSON object; ok is true for an object or for nothing at all.
func object(raw json.RawMessage) (map[string]json.RawMessage, bool) {
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return map[string]json.RawMessage{}, true
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, false
	}
	return m, true
}

// fieldLabel turns a key such as "publication_date" into "Publication date", "nsig_id" into "NSIG ID".
func fieldLabel(k string) string {
	words := strings.Fields(strings.ReplaceAll(k, "_", " "))
	if len(words) == 0 {
		return "Value"
	}
	for i, w := range words {
		switch w {
		case "id", "ids", "ip", "nsig", "nsigs", "url", "sha256", "totp", "rsig", "sig", "ods":
			words[i] = strings.ToUpper(strings.TrimSuffix(w, "s"))
			if strings.HasSuffix(w, "s") && w != "sha256" {
				words[i] += "s"
			}
		}
	}
	s := strings.Join(words, " ")
	return strings.ToUpper(s[:1]) + s[1:]
}

// valueText is a JSON value in words.
func valueText(raw json.RawMessage) string {
	var v any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return string(raw)
	}
	return words(v)
}

func words(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		if x {
			return "Yes"
		}
		return "No"
	case json.Number:
		return x.String()
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			if s := words(e); s != "" {
				parts = append(parts, s)
			}
		}
		return strings.Join(parts, ", ")
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			if s := words(x[k]); s != "" {
				parts = append(parts, fieldLabel(k)+": "+s)
			}
		}
		return strings.Join(parts, "; ")
	default:
		return strconv.Quote(fmt.Sprint(x))
	}
}
