package forms

import (
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	v := NewValidator()
	tests := []struct {
		name string
		form any
		want Errors
	}{
		{"valid sign-in", &SignIn{Email: "a@b.nhs.uk", Password: "x"}, nil},
		{"empty sign-in", &SignIn{}, Errors{
			{"email", "Enter your email address"},
			{"password", "Enter your password"},
		}},
		{"bad email", &SignIn{Email: "not-an-email", Password: "x"}, Errors{
			{"email", "Enter an email address in the correct format, like name@example.nhs.uk"},
		}},
		{"user without roles", &User{Name: "A", Email: "a@b.nhs.uk", OrganisationID: "1"}, Errors{
			{"roles", "Select at least one role"},
		}},
		{"user with unknown role and no organisation", &User{Name: "A", Email: "a@b.nhs.uk", Roles: []string{"root"}}, Errors{
			{"organisation_id", "Select their organisation"},
			{"roles", "Select roles from the list"},
		}},
		{"long name", &User{Name: strings.Repeat("a", 201), Email: "a@b.nhs.uk", OrganisationID: "1", Roles: []string{"admin"}}, Errors{
			{"name", "Their full name must be 200 characters or fewer"},
		}},
		{"short new password and mismatch", &ChangePassword{Current: "old", New: "short", Confirm: "other"}, Errors{
			{"new_password", "Your new password must be 12 characters or more"},
			{"confirm_password", "The passwords do not match"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := v.Check(tt.form)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d errors %v, want %v", len(got), got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("error %d = %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestErrorsAddKeepsFirst(t *testing.T) {
	var e Errors
	e.Add("email", "first")
	e.Add("email", "second")
	e.Add("name", "other")
	if len(e) != 2 || e.Get("email") != "first" || !e.Any() || e.Get("missing") != "" {
		t.Fatalf("unexpected errors %v", e)
	}
}
