package server

import (
	"strings"

	"github.com/acme/aftersales/input"
)

// Body fields are checked by the input rules (package input), reporting
// each problem under the field's name; the workflows' validators check the
// same again.

// optionalText trims free text and checks it by the input rules (valid
// UTF-8, no NUL or control characters but tab and line ends, at most max
// characters); empty is fine.
func optionalText(errs fieldErrors, name, v string, max int) string {
	v = strings.TrimSpace(v)
	if p := input.Text(v, max); p != "" {
		errs.add(name, p)
	}
	return v
}

// textField is optionalText that must not be empty.
func textField(errs fieldErrors, name, v string, max int) string {
	v = strings.TrimSpace(v)
	if p := input.RequiredText(v, max); p != "" {
		errs.add(name, p)
	}
	return v
}

// lineField is textField for a single line (a name, a product, a reference).
func lineField(errs fieldErrors, name, v string, max int, isRequired bool) string {
	v = strings.TrimSpace(v)
	switch {
	case v == "" && isRequired:
		errs.add(name, "is required")
	case v != "":
		if p := input.Line(v, max); p != "" {
			errs.add(name, p)
		}
	}
	return v
}

// keyField checks a client-chosen business key (complaint_no,
// nomination_no, work_order_no) by input.Key, reporting into errs.
func keyField(errs fieldErrors, name, v string) bool {
	if p := input.Key(v); p != "" {
		errs.add(name, p)
		return false
	}
	return true
}
