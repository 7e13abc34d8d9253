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
func (val *Validator) Check(form any) Errors {
	err := val.v.Struct(form)
	if err == nil {
		return nil
	}
	var ves validator.ValidationErrors
	if !errors.As(err, &ves) {
		// Only a programming mistake (not a struct) gets here.
		panic(fmt.Sprintf("validate form %T: %v", form, err))
	}
	t := reflect.TypeOf(form)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
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
