package audit

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestLabelFallsBackToWords(t *testing.T) {
	if got := Label("user.password_changed"); got != "Password changed" {
		t.Errorf("Label(user.password_changed) = %q", got)
	}
	if got := Label("widget.was_frobbed"); got != "Widget was frobbed" {
		t.Errorf("an unlabelled action reads %q", got)
	}
}

func TestChangesReadAsFields(t *testing.T) {
	for _, tc := range []struct {
		name          string
		before, after string
		want          []Change
	}{
		{"nothing", "", "", nil},
		{"status change", `{"status":"submitted"}`, `{"status":"under_review","reason":""}`,
			[]Change{{Field: "Status", Before: "submitted", After: "under_review", HasBefore: true, HasAfter: true}}},
		{"values in words", ``, `{"wellbeing":false,"nsig_ids":[2,3],"renewal_years":3,"meeting":{"starts_at":"today","room_id":null}}`,
			[]Change{
				{Field: "Meeting", After: "Starts at: today", HasAfter: true},
				{Field: "NSIG IDs", After: "2, 3", HasAfter: true},
				{Field: "Renewal years", After: "3", HasAfter: true},
				{Field: "Wellbeing", After: "No", HasAfter: true},
			}},
		{"unchanged fields left out", `{"name":"A","roles":["x"]}`, `{"name":"A","roles":["x","y"]}`,
			[]Change{{Field: "Roles", Before: "x", After: "x, y", HasBefore: true, HasAfter: true}}},
		{"all unchanged", `{"name":"A"}`, `{"name":"A"}`,
			[]Change{{Field: "Name", Before: "A", After: "A", HasBefore: true, HasAfter: true}}},
		{"removed", `{"note":"gone"}`, `{}`, []Change{{Field: "Note", Before: "gone", HasBefore: true}}},
		{"not an object", ``, `["a","b"]`, []Change{{Field: "Details", After: "a, b", HasAfter: true}}},
	} {
		got := Changes(json.RawMessage(tc.before), json.RawMessage(tc.after))
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: Changes = %+v, want %+v", tc.name, got, tc.want)
		}
	}
}
