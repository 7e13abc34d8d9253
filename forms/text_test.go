package forms

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// everyForm is one of each form struct. TestEveryFormIsListed fails when a form is added without
// being listed here, so the text check below covers every form.
var everyForm = []any{
	&Assessment{}, &AssignAssessor{}, &SignIn{}, &User{}, &ChangePassword{},
	&JustificationAbout{}, &JustificationRequirement{}, &JustificationStrategicFit{}, &JustificationBenefits{},
	&JustificationDelivery{}, &JustificationSignOff{}, &Endorsement{},
	&SupplementaryRoleRequest{}, &NationalCompetencyRequest{}, &NotificationSettings{},
	&NSIG{}, &Appointment{}, &EndTerm{}, &RegionalView{}, &Meeting{}, &AgendaItem{}, &Minutes{}, &MeetingAction{},
	&Project{}, &Handover{}, &RaiseTitle{}, &RaiseDetails{}, &RaiseAffected{}, &RaiseUrgency{},
	&Release{}, &MoveRelease{}, &RequestAction{}, &LinkAction{}, &Comment{}, &Support{}, &Assign{}, &Requirement{}, &RequirementAgree{},
	&SchedulePreview{}, &SchedulePublish{}, &PublicSummary{}, &RegionalUpdate{}, &Passcode{}, &RecoveryCode{}, &Reconfirm{}, &FirstPassword{}, &GrantDecision{}, &AccessRequest{}, &Organisation{}, &OrganisationMerge{}, &LeavingDate{}, &RemoveAccess{}, &Downtime{}, &ReviewMark{}, &ReviewSignOff{},
}

func TestEveryFormIsListed(t *testing.T) {
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, f := range everyForm {
		listed = append(listed, reflect.TypeOf(f).Elem().Name())
	}
	fset := token.NewFileSet()
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			ts, ok := n.(*ast.TypeSpec)
			if !ok {
				return true
			}
			st, ok := ts.Type.(*ast.StructType)
			if !ok {
				return false
			}
			for _, f := range st.Fields.List {
				if f.Tag != nil && strings.Contains(f.Tag.Value, `form:"`) && !slices.Contains(listed, ts.Name.Name) {
					t.Errorf("form %s is not in everyForm", ts.Name.Name)
					break
				}
			}
			return false
		})
	}
}

// TestCheckRefusesUnstorableText: NUL, other control characters, invalid UTF-8 and the "�" that stands
// for them, in any text field of any form, give that field the error, whatever else the field allows.
func TestCheckRefusesUnstorableText(t *testing.T) {
	v := NewValidator()
	bad := map[string]string{
		"NUL":               "before\x00after",
		"invalid UTF-8":     "caf\xe9",
		"lone continuation": "\x80",
		"escape":            "\x1b[31mred",
		"delete":            "a\x7fb",
		"replacement":       "a\uFFFDb",
		"noncharacter":      "a\uFFFEb",
	}
	fields := 0
	for _, form := range everyForm {
		typ := reflect.TypeOf(form).Elem()
		for i := 0; i < typ.NumField(); i++ {
			sf := typ.Field(i)
			name := formName(sf)
			isText := sf.Type.Kind() == reflect.String || (sf.Type.Kind() == reflect.Slice && sf.Type.Elem().Kind() == reflect.String)
			if name == "" || !isText {
				continue
			}
			fields++
			for what, value := range bad {
				f := reflect.New(typ)
				if sf.Type.Kind() == reflect.String {
					f.Elem().Field(i).SetString(value)
				} else {
					f.Elem().Field(i).Set(reflect.ValueOf([]string{"fine", value}))
				}
				errs := v.Check(f.Interface())
				if got := errs.Get(name); got != unstorableMessage {
					t.Errorf("%s.%s with %s: error %q, want %q", typ.Name(), sf.Name, what, got, unstorableMessage)
				}
			}
		}
	}
	t.Logf("%d text fields of %d forms, each with %d kinds of unstorable text", fields, len(everyForm), len(bad))
	if fields < 50 {
		t.Errorf("only %d text fields found", fields)
	}
	// Tab, line ends and ordinary Unicode are fine.
	if errs := v.Check(&Comment{Body: "Line one\r\n\tLine two — café, ŵ, 😀"}); errs.Get("body") != "" {
		t.Errorf("ordinary text refused: %v", errs)
	}
}

func TestCheckOrdersUnstorableWithOtherErrors(t *testing.T) {
	v := NewValidator()
	// The email field is first on the page: its rule error stays before the password's unstorable one.
	errs := v.Check(&SignIn{Email: "not-an-email", Password: "pass\x00word"})
	want := Errors{
		{"email", "Enter an email address in the correct format, like name@example.nhs.uk"},
		{"password", unstorableMessage},
	}
	if !slices.Equal(errs, want) {
		t.Errorf("got %v, want %v", errs, want)
	}
	// An unstorable field gets that error instead of its rule's.
	errs = v.Check(&User{Name: strings.Repeat("\x00", 300), Email: "a@b.nhs.uk", OrganisationID: "1", Roles: []string{"admin"}})
	if !slices.Equal(errs, Errors{{"name", unstorableMessage}}) {
		t.Errorf("got %v", errs)
	}
}

func TestClean(t *testing.T) {
	for in, want := range map[string]string{
		"plain":                "plain",
		"tab\tand\r\nlines":    "tab\tand\r\nlines",
		"nul\x00":              "nul\uFFFD",
		"caf\xe9":              "caf\uFFFD",
		"\xff\xfe":             "\uFFFD\uFFFD",
		"\x1b[0m":              "\uFFFD[0m",
		"ok \u00e9 \U0001F600": "ok \u00e9 \U0001F600",
		"\xed\xa0\x80":         "\uFFFD\uFFFD\uFFFD", // a UTF-16 surrogate, not valid UTF-8
	} {
		got := Clean(in)
		if got != want {
			t.Errorf("Clean(%q) = %q, want %q", in, got, want)
		}
		if !utf8.ValidString(got) || strings.ContainsRune(got, 0) {
			t.Errorf("Clean(%q) = %q is not storable", in, got)
		}
	}
}
