package forms

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/go-playground/validator/v10"
)

// Validator checks form structs against their `validate` tags and words the failures for users.
//
// Each field names its input with a `form` tag (the same name the HTML uses, and the id the error
// summary links to) and may give its own sentences in an `errors` tag: "rule=sentence;rule=sentence",
// e.g. `errors:"required=Enter your email address;email=Enter an email address in the correct format"`.
// Rules without a sentence get a plain one built from the `label` tag.
type Validator struct {
	v *validator.Validate
}

// NewValidator makes the portal's validator.
func NewValidator() *Validator {
	v := validator.New(validator.WithRequiredStructEnabled())
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		name, _, _ := strings.Cut(f.Tag.Get("form"), ",")
		if name == "-" {
			return ""
		}
		return name
	})
	return &Validator{v: v}
}

// Check validates form (a pointer to a struct) and returns its problems in field order; none when valid.
// Every text field is checked first for what cannot be stored (NUL and other control characters,
// invalid UTF-8, or the "�" the portal puts in their place when a form arrives): such a field gets
// that error whatever its tags say, so no handler that checks its form can pass them on.
func (val *Validator) Check(form any) Errors {
	bad := unstorableFields(form)
	err := val.v.Struct(form)
	if err == nil && len(bad) == 0 {
		return nil
	}
	var ves validator.ValidationErrors
	if err != nil && !errors.As(err, &ves) {
		// Only a programming mistake (not a struct) gets here.
		panic(fmt.Sprintf("validate form %T: %v", form, err))
	}
	t := reflect.TypeOf(form)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	errs := messages(t, ves)
	if len(bad) == 0 {
		return errs
	}
	var unstorable Errors
	for i := 0; i < t.NumField(); i++ {
		if name := formName(t.Field(i)); bad[name] {
			unstorable.Add(name, unstorableMessage)
		}
	}
	return mergeInFieldOrder(t, unstorable, errs)
}

// formName is the name of a struct field's input: its form tag, or "" for none.
func formName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("form"), ",")
	if name == "-" || !f.IsExported() {
		return ""
	}
	return name
}

// unstorableFields returns the names of form's text fields (strings and lists of strings) that hold
// something that cannot be stored.
func unstorableFields(form any) map[string]bool {
	v := reflect.Indirect(reflect.ValueOf(form))
	if v.Kind() != reflect.Struct {
		return nil
	}
	var bad map[string]bool
	for i := 0; i < v.NumField(); i++ {
		name := formName(v.Type().Field(i))
		if name == "" {
			continue
		}
		f := v.Field(i)
		ok := true
		switch {
		case f.Kind() == reflect.String:
			ok = Storable(f.String())
		case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.String:
			for j := 0; j < f.Len() && ok; j++ {
				ok = Storable(f.Index(j).String())
			}
		}
		if !ok {
			if bad == nil {
				bad = map[string]bool{}
			}
			bad[name] = true
		}
	}
	return bad
}

// mergeInFieldOrder puts the errors of first and then of rest in the order of t's fields; a field
// keeps its first error. Errors on no field of t (a whole-form rule) come last.
func mergeInFieldOrder(t reflect.Type, first, rest Errors) Errors {
	all := append(append(Errors{}, first...), rest...)
	var out Errors
	for i := 0; i < t.NumField(); i++ {
		name := formName(t.Field(i))
		if m := all.Get(name); name != "" && m != "" {
			out.Add(name, m)
		}
	}
	for _, fe := range all {
		out.Add(fe.Field, fe.Message)
	}
	return out
}

// messages words the validator's failures, in the validator's (field) order.
func messages(t reflect.Type, ves validator.ValidationErrors) Errors {
	var out Errors
	for _, fe := range ves {
		// A rule on a slice's elements ("dive") names the element, e.g. roles[0]: report it on the field.
		field, _, _ := strings.Cut(fe.Field(), "[")
		structField, _, _ := strings.Cut(fe.StructField(), "[")
		sf, ok := t.FieldByName(structField)
		if !ok {
			out.Add(field, "Check this answer")
			continue
		}
		out.Add(field, message(sf, fe))
	}
	return out
}

func message(sf reflect.StructField, fe validator.FieldError) string {
	for _, part := range strings.Split(sf.Tag.Get("errors"), ";") {
		rule, text, ok := strings.Cut(part, "=")
		if ok && strings.TrimSpace(rule) == fe.Tag() {
			return strings.TrimSpace(text)
		}
	}
	label := sf.Tag.Get("label")
	if label == "" {
		label = strings.ToLower(sf.Name)
	}
	switch fe.Tag() {
	case "required":
		if sf.Type.Kind() == reflect.Slice {
			return "Select " + label
		}
		return "Enter " + label
	case "max":
		if sf.Type.Kind() == reflect.Slice {
			return fmt.Sprintf("Select no more than %s", fe.Param())
		}
		return fmt.Sprintf("%s must be %s characters or fewer", capitalise(label), fe.Param())
	case "min":
		if sf.Type.Kind() == reflect.Slice {
			return "Select " + label
		}
		return fmt.Sprintf("%s must be %s characters or more", capitalise(label), fe.Param())
	case "email":
		return "Enter an email address in the correct format, like name@example.nhs.uk"
	case "oneof":
		return "Select " + label + " from the list"
	case "numeric", "number":
		return capitalise(label) + " must be a number"
	case "eqfield":
		return capitalise(label) + " does not match"
	}
	return "Check " + label
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
